using System.Text.Json;
using System.Text.RegularExpressions;
using ControlPlane.Testing;

namespace ControlPlane.Api.Tests;

/// <summary>
/// The monitoring files in deploy/: the alert rules pass promtool's check and their own unit
/// tests (deploy/prometheus/alerts.test.yml pins every threshold and duration), each alert
/// links to its runbook section, and the Grafana dashboard is JSON whose every panel queries.
/// </summary>
public sealed partial class AlertRulesTests
{
    private const string Rules = "deploy/prometheus/alerts.yml";
    private const string RuleTests = "deploy/prometheus/alerts.test.yml";
    private const string Runbook = "docs/operations.md";
    private const string Dashboard = "deploy/grafana/control-plane.json";

    [Fact]
    public async Task AlertRules_PromtoolCheck_Passes()
    {
        var run = await RepositoryScript.RunProgramAsync("promtool", null, TimeSpan.FromMinutes(1), "check", "rules", Rules);

        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [Fact]
    public async Task AlertRules_PromtoolUnitTests_Pass()
    {
        var run = await RepositoryScript.RunProgramAsync("promtool", null, TimeSpan.FromMinutes(1), "test", "rules", RuleTests);

        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [Fact]
    public void AlertRules_EveryAlert_HasSeverityAnnotationsAndItsRunbookSection()
    {
        var rules = File.ReadAllText(Path.Combine(TestEnvironment.RepositoryRoot, Rules));
        var sections = RunbookHeading().Matches(File.ReadAllText(Path.Combine(TestEnvironment.RepositoryRoot, Runbook)))
            .Select(m => Anchor(m.Groups["title"].Value))
            .ToHashSet();
        var alerts = AlertName().Matches(rules);
        Assert.NotEmpty(alerts);

        for (var i = 0; i < alerts.Count; i++)
        {
            var name = alerts[i].Groups["name"].Value;
            var end = i + 1 < alerts.Count ? alerts[i + 1].Index : rules.Length;
            var rule = rules[alerts[i].Index..end];

            Assert.True(Severity().IsMatch(rule), $"{name} has no severity label of critical or warning");
            Assert.True(rule.Contains("summary:", StringComparison.Ordinal), $"{name} has no summary");
            Assert.True(rule.Contains("description:", StringComparison.Ordinal), $"{name} has no description");
            var anchor = name.ToLowerInvariant();
            Assert.True(rule.Contains($"runbook_url: {Runbook}#{anchor}\n", StringComparison.Ordinal), $"{name}'s runbook_url is not {Runbook}#{anchor}");
            Assert.True(sections.Contains(anchor), $"{Runbook} has no section #{anchor} for {name}");
        }
    }

    [Fact]
    public void Dashboard_EveryPanel_HasAPrometheusQuery()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestEnvironment.RepositoryRoot, Dashboard)));
        var panels = Panels(dashboard.RootElement.GetProperty("panels")).Where(p => p.GetProperty("type").GetString() != "row").ToList();

        Assert.NotEmpty(panels);
        foreach (var panel in panels)
        {
            var title = panel.GetProperty("title").GetString();
            var queries = panel.TryGetProperty("targets", out var targets)
                ? targets.EnumerateArray().Where(t => t.TryGetProperty("expr", out var expr) && !string.IsNullOrWhiteSpace(expr.GetString()))
                : [];
            Assert.True(queries.Any(), $"panel \"{title}\" has no target with an expr");
        }
    }

    /// <summary>Top-level panels and those nested in (collapsed) rows.</summary>
    private static IEnumerable<JsonElement> Panels(JsonElement panels) =>
        panels.EnumerateArray().SelectMany(p =>
            p.TryGetProperty("panels", out var nested) ? Panels(nested).Prepend(p) : [p]);

    /// <summary>The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces as hyphens.</summary>
    private static string Anchor(string heading) =>
        new string(heading.Trim().ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_').ToArray()).Replace(' ', '-');

    [GeneratedRegex(@"^\s*- alert: (?<name>\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex AlertName();

    [GeneratedRegex(@"^\s*severity: (critical|warning)\s*$", RegexOptions.Multiline)]
    private static partial Regex Severity();

    [GeneratedRegex(@"^#{1,6} (?<title>.+)$", RegexOptions.Multiline)]
    private static partial Regex RunbookHeading();
}
