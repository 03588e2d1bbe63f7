using StackExchange.Redis;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// Every Redis key and pub/sub channel name, from one prefix (default <c>se:{HubName}</c>), which is wrapped in a
/// hash tag — <c>{se:ChatHub}</c> — so that on a Redis Cluster every key and inbox lives in one slot and every
/// script may touch any of them (see docs/redis.md for what that means for the ceiling):
/// <code>
/// inboxes  {p}:inbox:{server}    the one channel each server reads (sharded on a cluster); every message starts "{seq}."
/// routes   {p}:route:g:{group}   set of servers with local members of a group (channels, identity groups, @all)
///          {p}:route:u:{user}    set of servers with local connections of a SignalR user
///          {p}:route:conns       hash connection id → owning server
///          {p}:inbox:seq         hash server → sequence number of the last message sent to its inbox
///          {p}:server:{id}:routes  set of "g{group}" / "u{user}" / "c{connection}" a server has routes for (the sweep)
/// keys     {p}:seq:events        event id counter (the last id issued; ids follow Redis's clock in µs)
///          {p}:seq:{name}        GetNextSequence counters
///          {p}:sub:{id}          hash: info (JSON), channels (comma list), pulse (unix ms), server, uid, uname, sid
///          {p}:subs              set of every subscription id
///          {p}:idx:channel:{c}  {p}:idx:uid:{u}  {p}:idx:uname:{n}  {p}:idx:sid:{s}   index sets
///          {p}:counts            hash channel → subscription count
///          {p}:servers           set of server ids;  {p}:server:{id} liveness key (TTL);  {p}:server:{id}:subs set
///          {p}:history:{target}  stream of a group's (or "@all"'s) recent events, entry id = "{event id}-1", field m = the message
///          {p}:history:floor     the first event id every history is complete from (set when the id counter starts)
///          {p}:history:clock     sorted set: the first event id of each second, scored by Redis time in ms (age cap)
///          {p}:token:{server}:{n}  the id a buffered notification got, so that retrying it cannot publish it twice
/// </code>
/// The Lua scripts build the same names from the prefix they are given.
/// </summary>
internal sealed class RedisKeys
{
    public RedisKeys(string prefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        // A prefix that already names its hash tag keeps it; otherwise the whole prefix is the tag.
        Prefix = prefix.Contains('{', StringComparison.Ordinal) && prefix.Contains('}', StringComparison.Ordinal) ? prefix : "{" + prefix + "}";
    }

    /// <summary>The prefix as keys carry it, hash tag included.</summary>
    public string Prefix { get; }

    public RedisKey EventSequence => Prefix + ":seq:events";

    public RedisKey InboxSequences => Prefix + ":inbox:seq";

    public RedisKey Servers => Prefix + ":servers";

    public RedisKey Inbox(string serverId) => Prefix + ":inbox:" + serverId;

    public RedisKey History(string target) => Prefix + ":history:" + target;

    public RedisKey HistoryFloor => Prefix + ":history:floor";

    public RedisKey HistoryClock => Prefix + ":history:clock";

    public RedisKey PublishToken(string serverId, string sequence) => Prefix + ":token:" + serverId + ":" + sequence;

    public RedisKey Sequence(string name) => Prefix + ":seq:" + name;

    public RedisKey Subscription(string id) => Prefix + ":sub:" + id;

    public RedisKey Subscriptions => Prefix + ":subs";

    public RedisKey Index(string kind, string key) => Prefix + ":idx:" + kind + ":" + key;

    public RedisKey Counts => Prefix + ":counts";

    public RedisKey ServerAlive(string serverId) => Prefix + ":server:" + serverId;

    public RedisKey ServerSubscriptions(string serverId) => Prefix + ":server:" + serverId + ":subs";

    public RedisKey ServerRoutes(string serverId) => Prefix + ":server:" + serverId + ":routes";
}
