namespace EdgeAgent;

/// <summary>Settings of one agent (section <c>Agent</c>).</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>The data-center code this agent serves, such as <c>ams</c>.</summary>
    public string DataCenter { get; set; } = "";

    /// <summary>
    /// The network namespace whose kernel the agent programs (a name under
    /// /run/netns). Empty means the namespace the agent runs in.
    /// </summary>
    public string? Namespace { get; set; }

    /// <summary><c>nft</c> programs the kernel; <c>recording</c> only writes what it would apply.</summary>
    public string Backend { get; set; } = "nft";

    /// <summary>Where the recording backend writes its rulesets.</summary>
    public string RecordingDirectory { get; set; } = "recorded-rulesets";

    /// <summary>How often the agent reports in even when nothing changed.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);
}
