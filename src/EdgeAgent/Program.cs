using EdgeAgent;
using EdgeAgent.Dataplane;

var uninstall = args.FirstOrDefault() == "uninstall";
var builder = Host.CreateApplicationBuilder(uninstall ? args[1..] : args);
builder.AddEdgeAgent();
using var host = builder.Build();

// `EdgeAgent uninstall` removes the agent's own nftables table and nothing else.
if (uninstall)
{
    await host.Services.GetRequiredService<IDataplane>().UninstallAsync(CancellationToken.None);
    Console.WriteLine("Removed the agent's nftables table.");
    return;
}

await host.RunAsync();
