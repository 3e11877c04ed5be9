// Cloudflare's official TypeScript SDK (npm "cloudflare", pinned in package-lock.json), pointed
// at this API with only its base URL changed. Every Cloudflare-compatible route is called
// through the SDK method a real user calls; our own routes (rollout, analytics, dry_run)
// through the SDK's raw client.get/patch. Each step asserts values, prints "ok <step>", and the
// first failure exits non-zero. Run by tests/EndToEnd.Tests/CloudflareSdkTests.cs with:
//   CLOUDFLARE_BASE_URL   https://127.0.0.1:<port>/client/v4
//   CLOUDFLARE_API_TOKEN  a token with every permission group, of account CP_ACCOUNT_ID
//   CP_ACCOUNT_ID, CP_TAG (a unique label for zone names), NODE_EXTRA_CA_CERTS (the test CA)
import assert from 'node:assert/strict';
import Cloudflare from 'cloudflare';

const account_id = process.env.CP_ACCOUNT_ID;
const tag = process.env.CP_TAG;
// maxRetries 0: a failure must show up as itself, not be retried away.
const client = new Cloudflare({ maxRetries: 0 });

async function step(name, body) {
  try {
    await body();
    console.log(`ok ${name}`);
  } catch (error) {
    console.log(`FAILED ${name}: ${error?.stack ?? error}`);
    process.exit(1);
  }
}

async function all(pages) {
  const items = [];
  for await (const item of pages) items.push(item);
  return items;
}

async function expectError(promise, ErrorType, status, code) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof ErrorType, `expected ${ErrorType.name}, got ${error?.constructor?.name}: ${error?.message}`);
    assert.equal(error.status, status);
    assert.equal(error.errors?.[0]?.code, code);
    return true;
  });
}

await step('user.tokens.verify', async () => {
  const verified = await client.user.tokens.verify();
  assert.equal(verified.status, 'active');
});

await step('accounts.tokens.verify', async () => {
  assert.equal((await client.accounts.tokens.verify({ account_id })).status, 'active');
});

await step('accounts.list yields exactly the token\'s account', async () => {
  assert.deepEqual((await all(client.accounts.list())).map((a) => a.id), [account_id]);
});

await step('accounts.get', async () => {
  assert.equal((await client.accounts.get({ account_id })).id, account_id);
});

const names = [`${tag}-a.example.com`, `${tag}-b.example.com`, `${tag}-c.example.org`];
const zones = {};
await step('zones.create', async () => {
  for (const name of names) {
    const zone = await client.zones.create({ account: { id: account_id }, name, type: 'full' });
    assert.equal(zone.name, name);
    assert.match(zone.id, /^[0-9a-f]{32}$/);
    zones[name] = zone;
  }
});
const zone_id = zones[names[0]].id;

await step('zones.create of an existing name is BadRequestError 1061', async () => {
  await expectError(client.zones.create({ account: { id: account_id }, name: names[0] }), Cloudflare.BadRequestError, 400, 1061);
});

await step('zones.list auto-pages: per_page 2 over 3 zones yields exactly 3', async () => {
  const listed = await all(client.zones.list({ name: `contains:${tag}`, per_page: 2 }));
  assert.deepEqual(listed.map((z) => z.name).sort(), [...names].sort());
});

await step('zones.list name operators', async () => {
  assert.deepEqual((await all(client.zones.list({ name: `ends_with:${tag}-c.example.org` }))).map((z) => z.name), [names[2]]);
  assert.deepEqual((await all(client.zones.list({ name: `starts_with:${tag}-b` }))).map((z) => z.name), [names[1]]);
  assert.deepEqual((await all(client.zones.list({ name: names[0] }))).map((z) => z.id), [zone_id]);
  assert.deepEqual((await all(client.zones.list({ name: `contains:${tag}`, type: ['partial'] }))).length, 0);
});

await step('zones.get and zones.edit', async () => {
  assert.equal((await client.zones.get({ zone_id })).name, names[0]);
  assert.equal((await client.zones.edit({ zone_id, paused: true })).paused, true);
});

await step('zones.get of an unknown zone is NotFoundError', async () => {
  await expectError(client.zones.get({ zone_id: '0'.repeat(32) }), Cloudflare.NotFoundError, 404, 1001);
});

await step('zones.settings.get and edit', async () => {
  assert.equal((await client.zones.settings.get('disable_http_ports', { zone_id })).value, 'off');
  const edited = await client.zones.settings.edit('disable_http_ports', { zone_id, value: 'on' });
  assert.equal(edited.value, 'on');
  assert.equal(edited.id, 'disable_http_ports');
});

await step('an invalid setting value is BadRequestError 1007', async () => {
  await expectError(client.zones.settings.edit('disable_http_ports', { zone_id, value: 'maybe' }), Cloudflare.BadRequestError, 400, 1007);
});

await step('our routes through the raw client: rollout, analytics, dry_run', async () => {
  const rollout = await client.get(`/zones/${zone_id}/settings/disable_http_ports/rollout`);
  assert.equal(rollout.success, true);
  assert.equal(rollout.result.value, 'on');
  const analytics = await client.get(`/zones/${names[1] && zones[names[1]].id}/analytics/plaintext_http`);
  assert.equal(analytics.success, true);
  const preview = await client.patch(`/zones/${zones[names[1]].id}/settings/disable_http_ports`, { query: { dry_run: true }, body: { value: 'on' } });
  assert.equal(preview.success, true);
  assert.equal((await client.zones.settings.get('disable_http_ports', { zone_id: zones[names[1]].id })).value, 'off');
});

let token_id;
let secret;
const zoneRead = '5ac1a0e7b5e94bb8a1a8e1d2f3c40001';
await step('accounts.tokens.permissionGroups.list', async () => {
  const groups = await all(client.accounts.tokens.permissionGroups.list({ account_id }));
  assert.equal(groups.length, 7);
  assert.equal(groups.find((g) => g.id === zoneRead)?.name, 'Zone Read');
});

await step('accounts.tokens.create with an IP condition', async () => {
  const created = await client.accounts.tokens.create({
    account_id,
    name: 'sdk token',
    policies: [{ effect: 'allow', permission_groups: [{ id: zoneRead }], resources: { [`com.cloudflare.api.account.${account_id}`]: '*' } }],
    condition: { request_ip: { in: ['127.0.0.0/8', '::1/128'] } },
  });
  token_id = created.id;
  secret = created.value;
  assert.match(secret, /^cpat_/);
  assert.deepEqual(created.condition.request_ip.in, ['127.0.0.0/8', '::1/128']);
});

await step('the new token works from inside its condition', async () => {
  const scoped = new Cloudflare({ apiToken: secret, maxRetries: 0 });
  assert.equal((await scoped.user.tokens.verify()).id, token_id);
  assert.equal((await all(scoped.zones.list({ name: `contains:${tag}` }))).length, 3);
});

await step('accounts.tokens.update moves it outside: PermissionDeniedError 9109', async () => {
  const current = await client.accounts.tokens.get(token_id, { account_id });
  const updated = await client.accounts.tokens.update(token_id, {
    account_id, name: 'sdk token, moved', policies: current.policies, condition: { request_ip: { in: ['192.0.2.0/24'] } },
  });
  assert.equal(updated.name, 'sdk token, moved');
  const scoped = new Cloudflare({ apiToken: secret, maxRetries: 0 });
  await expectError(scoped.user.tokens.verify(), Cloudflare.PermissionDeniedError, 403, 9109);
});

await step('accounts.tokens.list and get', async () => {
  const listed = await all(client.accounts.tokens.list({ account_id }));
  assert.ok(listed.some((t) => t.id === token_id && t.name === 'sdk token, moved'));
  assert.equal((await client.accounts.tokens.get(token_id, { account_id })).status, 'active');
});

await step('accounts.tokens.value.update rolls the secret', async () => {
  const rolled = await client.accounts.tokens.value.update(token_id, { account_id, body: {} });
  assert.match(rolled, /^cpat_/);
  assert.notEqual(rolled, secret);
});

await step('accounts.tokens.delete', async () => {
  assert.equal((await client.accounts.tokens.delete(token_id, { account_id })).id, token_id);
  assert.equal((await client.accounts.tokens.get(token_id, { account_id })).status, 'disabled');
});

await step('a bad token is AuthenticationError 1000', async () => {
  const stranger = new Cloudflare({ apiToken: 'cpat_' + 'x'.repeat(43), maxRetries: 0 });
  await expectError(stranger.zones.list().then((page) => page), Cloudflare.AuthenticationError, 401, 1000);
});

await step('auditLogs.list filters by action, actor IP prefix and id', async () => {
  const created = (await all(client.auditLogs.list({ account_id, action: { type: 'zone.create' }, direction: 'asc' }))).filter((e) => e.action.result);
  assert.deepEqual(created.map((e) => e.resource.id), names.map((n) => zones[n].id));
  const first = created[0];
  assert.equal(typeof first.newValue, 'string');
  assert.equal(first.newValueJson.id, zone_id);
  assert.equal(first.actor.type, 'user');
  const loopback = await all(client.auditLogs.list({ account_id, actor: { ip: '127.0.0.0/8' }, action: { type: 'zone.create' } }));
  assert.equal(loopback.length, 4); // three creations and the refused duplicate, all from loopback
  assert.equal((await all(client.auditLogs.list({ account_id, actor: { ip: '10.0.0.0/8' } }))).length, 0);
  assert.deepEqual((await all(client.auditLogs.list({ account_id, id: first.id }))).map((e) => e.id), [first.id]);
  const failed = await all(client.auditLogs.list({ account_id, action: { type: 'zone.create' }, per_page: 100 }));
  assert.equal(failed.filter((e) => e.action.result === false).length, 1); // the duplicate name above
});

await step('zones.delete', async () => {
  for (const name of names) assert.equal((await client.zones.delete({ zone_id: zones[name].id })).id, zones[name].id);
  assert.equal((await all(client.zones.list({ name: `contains:${tag}` }))).length, 0);
});

console.log('all SDK steps passed');
