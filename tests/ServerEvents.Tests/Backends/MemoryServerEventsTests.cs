using ServerEvents.Tests.Specification;

namespace ServerEvents.Tests.Backends;

/// <summary>The shared suite on the default in-memory back-end: one app server.</summary>
public sealed class MemoryServerEventsTests : ServerEventsSpecification
{
    protected override int ServerCount => 1;

    protected override void UseBackend(ServerEventsBuilder builder)
    {
    }
}
