using MassTransit;

namespace ControlPlane.Messaging;

/// <summary>
/// Reads the broker address from <c>ConnectionStrings:RabbitMq</c>, an
/// <c>amqp://user:password@host:port/vhost</c> URI, so one setting carries it all.
/// The credentials go to the client, never into a log line. Compiled into both the
/// API and the agent (a linked source file: Contracts holds message records only).
/// </summary>
internal static class RabbitMqConnection
{
    public static void UseConnectionString(this IRabbitMqBusFactoryConfigurator cfg, string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException("ConnectionStrings:RabbitMq is not set (amqp://user:password@host:port/vhost).");
        }

        var uri = new Uri(connectionString);
        var userInfo = uri.UserInfo.Split(':', 2);
        var virtualHost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        cfg.Host(uri.Host, (ushort)(uri.IsDefaultPort ? 5672 : uri.Port), virtualHost.Length == 0 ? "/" : virtualHost, h =>
        {
            h.Username(Uri.UnescapeDataString(userInfo[0]));
            h.Password(userInfo.Length > 1 ? Uri.UnescapeDataString(userInfo[1]) : "");
            h.Heartbeat(TimeSpan.FromSeconds(10));
            h.RequestedConnectionTimeout(TimeSpan.FromSeconds(5));
        });
    }
}
