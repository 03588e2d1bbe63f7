using System.Numerics;

namespace ServerEvents.LoadDriver;

/// <summary>Nearest-rank percentiles of sorted samples, as every table of the driver reports them.</summary>
public static class Percentiles
{
    /// <summary>The sample at rank ⌈p·n⌉ of <paramref name="sorted"/>; NaN when there is none.</summary>
    public static double Of<T>(IReadOnlyList<T> sorted, double p) where T : INumberBase<T> =>
        sorted.Count == 0 ? double.NaN : double.CreateChecked(sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)]);
}
