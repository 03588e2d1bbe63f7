namespace ServerEvents.Redis.Internal;

/// <summary>
/// Every Redis key and pub/sub channel name, from one prefix (default <c>se:{HubName}</c>):
/// <code>
/// pub/sub  {p}:all (SignalR's Clients.All)  {p}:group:{g} (channels, identity groups, @all = notify-all)
///          {p}:conn:{id}  {p}:user:{u}  {p}:control  {p}:ack:{server}
/// keys     {p}:seq:events        event id counter (INCR; starts at the clock in µs when created)
///          {p}:seq:{name}        GetNextSequence counters
///          {p}:sub:{id}          hash: info (JSON), channels (comma list), pulse (unix ms), server, uid, uname, sid
///          {p}:subs              set of every subscription id
///          {p}:idx:channel:{c}  {p}:idx:uid:{u}  {p}:idx:uname:{n}  {p}:idx:sid:{s}   index sets
///          {p}:counts            hash channel → subscription count
///          {p}:servers           set of server ids;  {p}:server:{id} liveness key (TTL);  {p}:server:{id}:subs set
///          {p}:history:{target}  stream of a group's (or "*all"'s) recent events, entry id = "{event id}-1", field m = the message
///          {p}:history:floor     the first event id every history is complete from (set when the id counter starts)
///          {p}:history:clock     sorted set: the first event id of each second, scored by Redis time in ms (age cap)
///          {p}:token:{server}:{n}  the id a buffered notification got, so that retrying it cannot publish it twice
/// </code>
/// The Lua scripts in <see cref="PresenceScripts"/> build the same names from the prefix.
/// </summary>
internal sealed class RedisKeys(string prefix)
{
    public string Prefix { get; } = prefix;

    public string All => Prefix + ":all";

    public string Group(string group) => Prefix + ":group:" + group;

    public string Connection(string connectionId) => Prefix + ":conn:" + connectionId;

    public string User(string userId) => Prefix + ":user:" + userId;

    public string Control => Prefix + ":control";

    public string Ack(string serverId) => Prefix + ":ack:" + serverId;

    public string EventSequence => Prefix + ":seq:events";

    public string History(string target) => Prefix + ":history:" + target;

    public string HistoryFloor => Prefix + ":history:floor";

    public string HistoryClock => Prefix + ":history:clock";

    public string PublishToken(string serverId, string sequence) => Prefix + ":token:" + serverId + ":" + sequence;

    public string Sequence(string name) => Prefix + ":seq:" + name;

    public string Subscription(string id) => Prefix + ":sub:" + id;

    public string Subscriptions => Prefix + ":subs";

    public string Index(string kind, string key) => Prefix + ":idx:" + kind + ":" + key;

    public string Counts => Prefix + ":counts";

    public string Servers => Prefix + ":servers";

    public string ServerAlive(string serverId) => Prefix + ":server:" + serverId;

    public string ServerSubscriptions(string serverId) => Prefix + ":server:" + serverId + ":subs";
}
