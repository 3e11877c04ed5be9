using System.Globalization;
using System.Text;

namespace EdgeAgent.Dataplane;

/// <summary>
/// Writes the nft batches for the agent's one table, from its <see cref="TableLayout"/>. Per-packet
/// cost is a few set lookups however many zones there are: never one rule per zone. Rules carry
/// comments so the agent can recognise its own chain when it checks for drift.
/// </summary>
public sealed class EdgeRuleset
{
    /// <summary>Elements per <c>add element</c> line; all lines still go in one transaction.</summary>
    private const int ElementsPerLine = 2000;

    /// <exception cref="ArgumentException">The hook is neither <c>input</c> nor <c>forward</c>.</exception>
    public EdgeRuleset(NftablesOptions options, TableLayout? layout = null)
    {
        TableName = options.Table;
        Hook = options.Hook is "input" or "forward"
            ? options.Hook
            : throw new ArgumentException($"Agent:Nftables:Hook must be 'input' or 'forward', not '{options.Hook}'.", nameof(options));
        PlaintextPorts = options.ParsePorts();
        Layout = layout ?? TableLayout.Default;
    }

    public string TableName { get; }

    /// <summary>The chain's name and hook: <c>input</c> or <c>forward</c>.</summary>
    public string Hook { get; }

    public IReadOnlyList<int> PlaintextPorts { get; }

    public TableLayout Layout { get; }

    private string Table => $"inet {TableName}";

    /// <summary>The whole table, for a kernel that does not have it yet.</summary>
    public string Create(EdgeElements elements)
    {
        var batch = new StringBuilder();
        batch.AppendLine(CultureInfo.InvariantCulture, $"add table {Table}");
        batch.AppendLine(CultureInfo.InvariantCulture, $"add set {Table} {TableLayout.Ports} {{ type inet_service; elements = {{ {string.Join(", ", PlaintextPorts)} }}; }}");
        foreach (var set in Layout.Sets)
        {
            var flags = set.Interval ? " flags interval;" : "";
            var counter = set.Counts ? " counter;" : "";
            batch.AppendLine(CultureInfo.InvariantCulture, $"add set {Table} {set.Name} {{ type {set.ElementType};{flags}{counter} }}");
        }

        batch.AppendLine(CultureInfo.InvariantCulture, $"add chain {Table} {Hook} {{ type filter hook {Hook} priority filter - 10; policy accept; }}");
        foreach (var (comment, body) in Layout.Rules)
        {
            batch.AppendLine(CultureInfo.InvariantCulture, $"add rule {Table} {Hook} {body} comment \"{comment}\"");
        }

        foreach (var (set, members) in elements.BySet())
        {
            AppendElements(batch, "add", set, members);
        }

        return batch.ToString();
    }

    /// <summary>
    /// Replaces a damaged table in one transaction: the old one is enforced until the
    /// new one is, with no gap. (<c>add</c> first makes the delete safe if it is gone.)
    /// </summary>
    public string Rebuild(EdgeElements elements) => $"add table {Table}\ndelete table {Table}\n" + Create(elements);

    /// <summary>Only the element changes between two states; empty when there are none.</summary>
    public string Diff(EdgeElements from, EdgeElements to)
    {
        var batch = new StringBuilder();
        foreach (var ((set, current), (_, wanted)) in from.BySet().Zip(to.BySet()))
        {
            AppendElements(batch, "delete", set, current.Where(e => !wanted.Contains(e)));
            AppendElements(batch, "add", set, wanted.Where(e => !current.Contains(e)));
        }

        return batch.ToString();
    }

    /// <summary>A batch of element changes: per set, in layout order, deletions before additions.</summary>
    public string Changes(IReadOnlyList<ElementChange> changes)
    {
        var batch = new StringBuilder();
        foreach (var set in Layout.Sets)
        {
            AppendElements(batch, "delete", set, changes.Where(c => c.Set == set && !c.Add).Select(c => c.Element));
            AppendElements(batch, "add", set, changes.Where(c => c.Set == set && c.Add).Select(c => c.Element));
        }

        return batch.ToString();
    }

    /// <summary>Removes the agent's table and nothing else; harmless when it is already gone.</summary>
    public string Uninstall() => $"add table {Table}\ndelete table {Table}\n";

    private void AppendElements(StringBuilder batch, string verb, AddressSet set, IEnumerable<string> members)
    {
        foreach (var chunk in members.Chunk(ElementsPerLine))
        {
            batch.AppendLine(CultureInfo.InvariantCulture, $"{verb} element {Table} {set.Name} {{ {string.Join(", ", chunk)} }}");
        }
    }
}
