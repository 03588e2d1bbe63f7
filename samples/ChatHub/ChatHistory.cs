using System.Text.Json;
using StackExchange.Redis;

namespace ChatHub;

/// <summary>Recent public messages per channel: one instance's memory, or shared by all instances in Redis.</summary>
public interface IChatHistory
{
    Task AddAsync(ChatMessage message, CancellationToken cancellationToken);

    /// <summary>Messages of the channels with an id above <paramref name="afterId"/>, the last <paramref name="take"/>, by id.</summary>
    Task<IReadOnlyList<ChatMessage>> GetAsync(IReadOnlyList<string> channels, long? afterId, int take, CancellationToken cancellationToken);

    Task ClearAsync(CancellationToken cancellationToken);
}

/// <summary>History in this process (the memory back-end: one instance).</summary>
public sealed class MemoryChatHistory : IChatHistory
{
    private const int PerChannel = 1000;
    private readonly Dictionary<string, List<ChatMessage>> _channels = new(StringComparer.Ordinal);

    public Task AddAsync(ChatMessage message, CancellationToken cancellationToken)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(message.Channel, out var list))
            {
                _channels[message.Channel] = list = [];
            }
            list.Add(message);
            if (list.Count > PerChannel)
            {
                list.RemoveRange(0, list.Count - PerChannel);
            }
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ChatMessage>> GetAsync(IReadOnlyList<string> channels, long? afterId, int take, CancellationToken cancellationToken)
    {
        lock (_channels)
        {
            IReadOnlyList<ChatMessage> result = [.. channels.Distinct()
                .SelectMany(c => _channels.TryGetValue(c, out var list) ? list.Where(m => m.Id > (afterId ?? 0)).TakeLast(take) : [])
                .OrderBy(m => m.Id)];
            return Task.FromResult(result);
        }
    }

    public Task ClearAsync(CancellationToken cancellationToken)
    {
        lock (_channels)
        {
            _channels.Clear();
        }
        return Task.CompletedTask;
    }
}

/// <summary>History in Redis lists, so every instance shows the same messages.</summary>
public sealed class RedisChatHistory(IConnectionMultiplexer redis) : IChatHistory
{
    private const int PerChannel = 1000;
    private const string Channels = "chat:channels";

    private static RedisKey Key(string channel) => "chat:history:" + channel;

    public async Task AddAsync(ChatMessage message, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(message, JsonSerializerOptions.Web);
        var database = redis.GetDatabase();
        await Task.WhenAll(
            database.ListRightPushAsync(Key(message.Channel), json),
            database.ListTrimAsync(Key(message.Channel), -PerChannel, -1),
            database.SetAddAsync(Channels, message.Channel)).WaitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ChatMessage>> GetAsync(IReadOnlyList<string> channels, long? afterId, int take, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        var lists = await Task.WhenAll(channels.Distinct().Select(c => database.ListRangeAsync(Key(c), -PerChannel, -1))).WaitAsync(cancellationToken);
        return [.. lists
            .Select(list => list.Select(i => JsonSerializer.Deserialize<ChatMessage>((string)i!, JsonSerializerOptions.Web)!).Where(m => m.Id > (afterId ?? 0)).TakeLast(take))
            .SelectMany(m => m)
            .OrderBy(m => m.Id)];
    }

    public async Task ClearAsync(CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        foreach (var channel in await database.SetMembersAsync(Channels).WaitAsync(cancellationToken))
        {
            await database.KeyDeleteAsync(Key((string)channel!)).WaitAsync(cancellationToken);
        }
        await database.KeyDeleteAsync(Channels).WaitAsync(cancellationToken);
    }
}
