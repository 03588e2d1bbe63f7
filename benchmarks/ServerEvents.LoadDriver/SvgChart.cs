using System.Globalization;
using System.Net;
using System.Text;

namespace ServerEvents.LoadDriver;

/// <summary>
/// A line chart drawn as SVG markup: logarithmic x axis (subscriber counts), linear or logarithmic y axis,
/// one polyline per series with a legend, and optional dashed reference lines (targets).
/// </summary>
public sealed class SvgChart(string title, string xLabel, string yLabel, bool logY)
{
    private readonly List<(string Name, string Color, IReadOnlyList<(double X, double Y)> Points)> _series = [];
    private readonly List<(double Y, string Label)> _references = [];

    public bool IsEmpty => _series.All(s => s.Points.Count == 0);

    public void Add(string name, string color, IEnumerable<(double X, double Y)> points) =>
        _series.Add((name, color, [.. points.Where(p => p.Y > 0 && double.IsFinite(p.Y)).OrderBy(p => p.X)]));

    public void Reference(double y, string label) => _references.Add((y, label));

    /// <summary>The chart as an SVG group placed at (<paramref name="left"/>, <paramref name="top"/>).</summary>
    public string Render(double left, double top, double width, double height)
    {
        const double PadLeft = 70, PadRight = 150, PadTop = 34, PadBottom = 48;
        var plotW = width - PadLeft - PadRight;
        var plotH = height - PadTop - PadBottom;
        var points = _series.SelectMany(s => s.Points).ToList();
        var svg = new StringBuilder();
        svg.Append(Invariant($"<g transform=\"translate({left},{top})\" font-family=\"sans-serif\" font-size=\"12\">"));
        svg.Append(Invariant($"<text x=\"{width / 2}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{E(title)}</text>"));
        svg.Append(Invariant($"<rect x=\"{PadLeft}\" y=\"{PadTop}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#999\"/>"));
        if (points.Count == 0)
        {
            svg.Append(Invariant($"<text x=\"{width / 2}\" y=\"{height / 2}\" text-anchor=\"middle\" fill=\"#777\">no runs of this kind in this report</text></g>"));
            return svg.ToString();
        }

        var xs = points.Select(p => p.X).Distinct().Order().ToArray();
        var (xMin, xMax) = (Math.Log10(xs[0]) - 0.15, Math.Log10(xs[^1]) + 0.15);
        var yValues = points.Select(p => p.Y).Concat(_references.Select(r => r.Y)).ToArray();
        var (yMin, yMax) = logY
            ? (Math.Floor(Math.Log10(yValues.Min())), Math.Ceiling(Math.Log10(yValues.Max())))
            : (0, NiceCeiling(yValues.Max() * 1.1));
        if (logY && yMax <= yMin)
        {
            yMax = yMin + 1;
        }
        double X(double x) => PadLeft + ((Math.Log10(x) - xMin) / (xMax - xMin) * plotW);
        double Y(double y) => PadTop + plotH - (((logY ? Math.Log10(y) : y) - yMin) / (yMax - yMin) * plotH);

        foreach (var x in xs)
        {
            svg.Append(Invariant($"<line x1=\"{X(x):0.#}\" x2=\"{X(x):0.#}\" y1=\"{PadTop}\" y2=\"{PadTop + plotH}\" stroke=\"#eee\"/>"));
            svg.Append(Invariant($"<text x=\"{X(x):0.#}\" y=\"{PadTop + plotH + 16}\" text-anchor=\"middle\">{x:N0}</text>"));
        }
        foreach (var tick in YTicks(yMin, yMax))
        {
            svg.Append(Invariant($"<line x1=\"{PadLeft}\" x2=\"{PadLeft + plotW}\" y1=\"{Y(tick):0.#}\" y2=\"{Y(tick):0.#}\" stroke=\"#eee\"/>"));
            svg.Append(Invariant($"<text x=\"{PadLeft - 6}\" y=\"{Y(tick) + 4:0.#}\" text-anchor=\"end\">{Short(tick)}</text>"));
        }
        svg.Append(Invariant($"<text x=\"{PadLeft + (plotW / 2)}\" y=\"{height - 10}\" text-anchor=\"middle\">{E(xLabel)}</text>"));
        svg.Append(Invariant($"<text transform=\"translate(16,{PadTop + (plotH / 2)}) rotate(-90)\" text-anchor=\"middle\">{E(yLabel)}</text>"));

        foreach (var (y, label) in _references)
        {
            svg.Append(Invariant($"<line x1=\"{PadLeft}\" x2=\"{PadLeft + plotW}\" y1=\"{Y(y):0.#}\" y2=\"{Y(y):0.#}\" stroke=\"#c00\" stroke-dasharray=\"6 4\"/>"));
            svg.Append(Invariant($"<text x=\"{PadLeft + plotW - 4}\" y=\"{Y(y) - 4:0.#}\" text-anchor=\"end\" fill=\"#c00\">{E(label)}</text>"));
        }
        var legendY = PadTop + 8;
        foreach (var (name, color, series) in _series.Where(s => s.Points.Count > 0))
        {
            var path = string.Join(' ', series.Select(p => Invariant($"{X(p.X):0.#},{Y(p.Y):0.#}")));
            svg.Append(Invariant($"<polyline points=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>"));
            foreach (var p in series)
            {
                svg.Append(Invariant($"<circle cx=\"{X(p.X):0.#}\" cy=\"{Y(p.Y):0.#}\" r=\"3.5\" fill=\"{color}\"><title>{E(name)}: {Short(p.Y)} at {p.X:N0}</title></circle>"));
            }
            svg.Append(Invariant($"<rect x=\"{PadLeft + plotW + 10}\" y=\"{legendY}\" width=\"14\" height=\"4\" fill=\"{color}\"/>"));
            svg.Append(Invariant($"<text x=\"{PadLeft + plotW + 30}\" y=\"{legendY + 6}\">{E(name)}</text>"));
            legendY += 16;
        }
        svg.Append("</g>");
        return svg.ToString();
    }

    /// <summary>Several charts side by side in one SVG document.</summary>
    public static string Document(IReadOnlyList<SvgChart> charts, double chartWidth, double height)
    {
        var width = chartWidth * charts.Count;
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">"));
        svg.Append(Invariant($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>"));
        for (var i = 0; i < charts.Count; i++)
        {
            svg.Append(charts[i].Render(i * chartWidth, 0, chartWidth, height));
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    // Log axes run over powers of ten (min and max are exponents); linear ones from 0 to a round maximum.
    private IEnumerable<double> YTicks(double min, double max)
    {
        if (logY)
        {
            for (var e = min; e <= max; e++)
            {
                foreach (var m in new[] { 1, 2, 5 })
                {
                    var v = m * Math.Pow(10, e);
                    if (Math.Log10(v) <= max + 1e-9)
                    {
                        yield return v;
                    }
                }
            }
            yield break;
        }
        var step = NiceCeiling(max / 5);
        for (var v = 0.0; v <= max + 1e-9; v += step)
        {
            yield return v;
        }
    }

    private static double NiceCeiling(double value)
    {
        if (value <= 0)
        {
            return 1;
        }
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        var scaled = value / magnitude;
        return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * magnitude;
    }

    private static string Short(double v) => v switch
    {
        >= 1_000_000 => Invariant($"{v / 1_000_000:0.#}M"),
        >= 1_000 => Invariant($"{v / 1_000:0.#}k"),
        >= 1 => Invariant($"{v:0.#}"),
        _ => Invariant($"{v:0.##}"),
    };

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
