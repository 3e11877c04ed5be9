using System.Globalization;
using System.Text;

namespace ControlPlane.Testing;

/// <summary>One sample of a scrape: its series name, labels and value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A scrape in the Prometheus text exposition format (version 0.0.4), parsed for assertions:
/// every sample line, and the family names of the <c># TYPE</c> lines.
/// </summary>
public sealed class PrometheusScrape
{
    private PrometheusScrape(IReadOnlyList<PrometheusSample> samples, IReadOnlySet<string> families)
    {
        Samples = samples;
        Families = families;
    }

    public IReadOnlyList<PrometheusSample> Samples { get; }

    /// <summary>Metric family names (<c>foo_seconds</c> for the samples <c>foo_seconds_bucket</c>, <c>_sum</c>, <c>_count</c>).</summary>
    public IReadOnlySet<string> Families { get; }

    /// <summary>Every name a query can use: the families and the sample names.</summary>
    public IReadOnlySet<string> Names => Families.Concat(Samples.Select(s => s.Name)).ToHashSet(StringComparer.Ordinal);

    /// <summary>Fetches and parses <paramref name="path"/>; throws when the answer is not 200.</summary>
    public static async Task<PrometheusScrape> FetchAsync(HttpClient client, string path = "/metrics")
    {
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? Parse(body)
            : throw new HttpRequestException($"scrape of {path} answered {(int)response.StatusCode}: {body}");
    }

    public static PrometheusScrape Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        var families = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                families.Add(line.Split(' ')[2]);
            }
            else if (line.Length > 0 && line[0] != '#')
            {
                samples.Add(ParseSample(line));
            }
        }

        return new PrometheusScrape(samples, families);
    }

    /// <summary>The samples named <paramref name="name"/> whose labels include all of <paramref name="labels"/> ("key=value").</summary>
    public IEnumerable<PrometheusSample> Find(string name, params string[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => l.Split('=', 2) is [var key, var value] && s.Labels.GetValueOrDefault(key) == value));

    /// <summary>The value of the one sample that matches, or null when none does.</summary>
    /// <exception cref="InvalidOperationException">More than one sample matches.</exception>
    public double? Value(string name, params string[] labels) => Find(name, labels).SingleOrDefault()?.Value;

    private static PrometheusSample ParseSample(string line)
    {
        var nameEnd = line.IndexOfAny(['{', ' ']);
        var name = line[..nameEnd];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = nameEnd;
        if (line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var eq = line.IndexOf('=', i);
                var key = line[i..eq].Trim(',', ' ');
                var value = new StringBuilder();
                i = eq + 2; // past ="
                while (line[i] != '"')
                {
                    if (line[i] == '\\')
                    {
                        i++;
                        value.Append(line[i] == 'n' ? '\n' : line[i]);
                    }
                    else
                    {
                        value.Append(line[i]);
                    }

                    i++;
                }

                labels[key] = value.ToString();
                i++;
                if (line[i] == ',')
                {
                    i++;
                }
            }

            i++;
        }

        var number = line[i..].Trim().Split(' ')[0];
        return new PrometheusSample(name, labels, number switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.Parse(number, CultureInfo.InvariantCulture),
        });
    }
}
