using System.Net.Http.Headers;
using System.Text;

namespace ControlPlane.Testing;

/// <summary>
/// A RabbitMQ virtual host of its own for one test class, created and deleted through
/// the management API, so queues and exchanges of parallel tests never meet.
/// </summary>
public sealed class TestVirtualHost : IAsyncDisposable
{
    private readonly HttpClient management;

    private TestVirtualHost(string name, HttpClient management)
    {
        Name = name;
        this.management = management;
        var amqp = TestEnvironment.RabbitMqAmqp;
        AmqpUri = new UriBuilder(amqp) { Path = "/" + Uri.EscapeDataString(name) }.Uri.ToString();
    }

    public string Name { get; }

    /// <summary>amqp://user:password@host:port/vhost, the form ConnectionStrings:RabbitMq takes.</summary>
    public string AmqpUri { get; }

    public static async Task<TestVirtualHost> CreateAsync()
    {
        var amqp = TestEnvironment.RabbitMqAmqp;
        var client = new HttpClient { BaseAddress = TestEnvironment.RabbitMqManagement };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(amqp.UserInfo))));
        var vhost = new TestVirtualHost("cp-test-" + Guid.NewGuid().ToString("N")[..12], client);
        var user = Uri.UnescapeDataString(amqp.UserInfo.Split(':')[0]);
        (await client.PutAsync($"api/vhosts/{vhost.Name}", null)).EnsureSuccessStatusCode();
        (await client.PutAsync($"api/permissions/{vhost.Name}/{user}",
            new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        return vhost;
    }

    public async ValueTask DisposeAsync()
    {
        using (management)
        {
            await management.DeleteAsync($"api/vhosts/{Name}");
        }
    }
}
