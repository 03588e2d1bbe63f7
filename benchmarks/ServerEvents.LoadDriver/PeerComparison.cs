using System.Globalization;
using System.Text;

namespace ServerEvents.LoadDriver;

/// <summary>
/// Ours beside the peers, scenario by scenario, from one run: each scenario the peers ran in, with our hub and SSE rows of
/// the same scenario (whichever section ran them), and the ratios the targets are stated in.
/// </summary>
public static class PeerComparison
{
    /// <summary>One scenario and what each stack measured in it (null: not run in this mode).</summary>
    public sealed record Row(Scenario Scenario, Result? Hub, Result? Sse, Result? Microsoft, Result? SocketIo)
    {
        public string Name => Scenario.Kind switch
        {
            "broadcast" => Invariant($"broadcast to {Scenario.Subscribers:N0} at {Scenario.RateText}"),
            "channels" => Invariant($"channels of {Scenario.ChannelSize}, {Scenario.Subscribers:N0} subscribers, max"),
            _ => Invariant($"user-targeted, {Scenario.Subscribers:N0} users, max"),
        };
    }

    public static IReadOnlyList<Row> Rows(IReadOnlyList<(string Section, Result Result)> sections)
    {
        // The history section repeats scenarios with history off; the comparison is of the default configuration.
        var results = sections.Where(r => r.Section != Suites.History).Select(r => r.Result).Where(r => r.Scenario.History).ToList();
        Result? Find(Scenario scenario, string transport) => results.FirstOrDefault(r => r.Scenario == scenario with { Transport = transport });
        return results.Where(r => r.Scenario.IsPeer)
            .Select(r => r.Scenario with { Transport = "hub" })
            .Distinct()
            .Select(s => new Row(s, Find(s, "hub"), Find(s, "sse"), Find(s, "microsoft"), Find(s, "socketio")))
            .ToList();
    }

    public static string Table(IReadOnlyList<Row> rows)
    {
        var md = new StringBuilder();
        md.AppendLine("| scenario | figure | ours, hub | ours, SSE | Microsoft backplane | Socket.IO | hub ÷ Microsoft | hub ÷ Socket.IO | SSE ÷ Microsoft | SSE ÷ Socket.IO |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            Line(md, row, "server CPU µs/delivery", r => r.ServerCpuMicrosPerDelivery, "0.0");
            Line(md, row, "delivered/s", r => r.DeliveredPerSecond, "N0");
            Line(md, row, "p50 ms", r => r.P50, "0.0");
            Line(md, row, "p99 ms", r => r.P99, "0.0");
            Line(md, row, "lost / dup / out of order", r => r.Lost + r.Duplicates + r.OutOfOrder, "0");
        }
        return md.ToString();
    }

    /// <summary>The targets, as ratios measured in this run.</summary>
    public static IEnumerable<(string Target, string Measured, string Met)> Targets(IReadOnlyList<Row> rows)
    {
        if (rows.Count == 0)
        {
            yield break;
        }
        var cpu = rows.Where(r => r.Scenario.Kind == "broadcast").SelectMany(r => Ours(r).Select(o => (Row: r, Ours: o))).ToList();
        yield return ("Server CPU per delivery ≤ Microsoft's backplane and ≤ Socket.IO's (broadcast at max rate and at 200 msg/s, hub and SSE)",
            string.Join("; ", cpu.Select(c => Invariant($"{c.Row.Name}, {c.Ours.Transport}: {Ratio(c.Ours.Result.ServerCpuMicrosPerDelivery, c.Row.Microsoft?.ServerCpuMicrosPerDelivery)} of Microsoft's, {Ratio(c.Ours.Result.ServerCpuMicrosPerDelivery, c.Row.SocketIo?.ServerCpuMicrosPerDelivery)} of Socket.IO's"))),
            Met(cpu.All(c => AtMost(c.Ours.Result.ServerCpuMicrosPerDelivery, c.Row.Microsoft?.ServerCpuMicrosPerDelivery) && AtMost(c.Ours.Result.ServerCpuMicrosPerDelivery, c.Row.SocketIo?.ServerCpuMicrosPerDelivery))));

        var fixedRate = rows.Where(r => r.Scenario is { Kind: "broadcast", Rate: 200, Subscribers: 300 }).SelectMany(r => Ours(r).Select(o => (Row: r, Ours: o))).ToList();
        yield return ("p99 at 200 msg/s to 300 subscribers over 3 servers ≤ Socket.IO's (hub and SSE)",
            fixedRate.Count == 0 ? "not run in this mode" : string.Join("; ", fixedRate.Select(f => Invariant($"{f.Ours.Transport}: {ResultTable.F(f.Ours.Result.P99)} ms vs {ResultTable.F(f.Row.SocketIo?.P99 ?? double.NaN)} ms ({Ratio(f.Ours.Result.P99, f.Row.SocketIo?.P99)})"))),
            Met(fixedRate.Count > 0 && fixedRate.All(f => AtMost(f.Ours.Result.P99, f.Row.SocketIo?.P99))));

        var maxRate = rows.Where(r => r.Scenario is { Kind: "broadcast", Rate: 0 }).SelectMany(r => Ours(r).Select(o => (Row: r, Ours: o))).ToList();
        yield return ("Max-rate deliveries/s ≥ both peers (broadcast, hub and SSE)",
            string.Join("; ", maxRate.Select(m => Invariant($"{m.Ours.Transport}: {Ratio(m.Ours.Result.DeliveredPerSecond, m.Row.Microsoft?.DeliveredPerSecond)} of Microsoft's, {Ratio(m.Ours.Result.DeliveredPerSecond, m.Row.SocketIo?.DeliveredPerSecond)} of Socket.IO's"))),
            Met(maxRate.Count > 0 && maxRate.All(m => AtLeast(m.Ours.Result.DeliveredPerSecond, m.Row.Microsoft?.DeliveredPerSecond) && AtLeast(m.Ours.Result.DeliveredPerSecond, m.Row.SocketIo?.DeliveredPerSecond))));
    }

    private static IEnumerable<(string Transport, Result Result)> Ours(Row row)
    {
        if (row.Hub is not null)
        {
            yield return ("hub", row.Hub);
        }
        if (row.Sse is not null)
        {
            yield return ("SSE", row.Sse);
        }
    }

    private static void Line(StringBuilder md, Row row, string figure, Func<Result, double> value, string format)
    {
        string V(Result? r) => r is null ? "–" : ResultTable.F(value(r), format);
        string R(Result? ours, Result? peer) => ours is null || peer is null ? "–" : Ratio(value(ours), value(peer));
        md.AppendLine(Invariant($"| {row.Name} | {figure} | {V(row.Hub)} | {V(row.Sse)} | {V(row.Microsoft)} | {V(row.SocketIo)} | {R(row.Hub, row.Microsoft)} | {R(row.Hub, row.SocketIo)} | {R(row.Sse, row.Microsoft)} | {R(row.Sse, row.SocketIo)} |"));
    }

    private static string Ratio(double ours, double? peer) =>
        peer is not { } p || p == 0 || double.IsNaN(ours) || double.IsNaN(p) ? "–" : (ours / p).ToString("0.00", CultureInfo.InvariantCulture) + "×";

    private static bool AtMost(double ours, double? peer) => peer is { } p && !double.IsNaN(ours) && ours <= p;

    private static bool AtLeast(double ours, double? peer) => peer is { } p && !double.IsNaN(ours) && ours >= p;

    private static string Met(bool met) => met ? "yes" : "**no**";
}
