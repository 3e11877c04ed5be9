using EdgeAgent;

var builder = Host.CreateApplicationBuilder(args);
builder.AddEdgeAgent();
await builder.Build().RunAsync();
