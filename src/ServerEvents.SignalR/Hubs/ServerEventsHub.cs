namespace ServerEvents;

/// <summary>
/// The ready-made Server Events hub mapped by <c>app.MapServerEvents("/hub")</c>. Apps that already have a
/// hub derive it from <see cref="ServerEventsHubBase"/> instead.
/// </summary>
public class ServerEventsHub : ServerEventsHubBase;
