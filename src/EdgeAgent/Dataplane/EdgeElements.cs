namespace EdgeAgent.Dataplane;

/// <summary>
/// The elements of each address set of a <see cref="TableLayout"/>, as canonical address text
/// (see <see cref="EdgeAddress"/>): what the desired state wants, or what the kernel holds.
/// </summary>
public sealed class EdgeElements
{
    private readonly Dictionary<string, HashSet<string>> sets;

    /// <summary>Empty sets, one per set of the layout.</summary>
    public EdgeElements(TableLayout layout)
    {
        Layout = layout;
        sets = layout.Sets.ToDictionary(s => s.Name, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
    }

    public TableLayout Layout { get; }

    /// <summary>The elements of one set, by the set's name.</summary>
    /// <exception cref="KeyNotFoundException">The layout has no set of that name.</exception>
    public HashSet<string> this[string setName] => sets[setName];

    /// <summary>The elements of one set.</summary>
    public HashSet<string> this[AddressSet set] => sets[set.Name];

    /// <summary>Each set of the layout, in layout order, with its elements.</summary>
    public IEnumerable<(AddressSet Set, HashSet<string> Elements)> BySet() => Layout.Sets.Select(s => (s, sets[s.Name]));

    /// <summary>All elements of all sets of one role.</summary>
    public IEnumerable<string> OfRole(SetRole role) => BySet().Where(s => s.Set.Role == role).SelectMany(s => s.Elements);
}
