namespace Dashboard.Tests;

/// <summary>Tests that drive Chromium share one browser process; each gets its own context.</summary>
[CollectionDefinition("browser")]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>;
