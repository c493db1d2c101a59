import { test, expect, Page, APIRequestContext } from '@playwright/test';
import { admin, hydrated } from './support';

// Runs against its own server (started by scripts/e2e.sh), where a delivery
// gets one attempt and a destination is disabled after 10 s of failures: the
// main server keeps the defaults, so no other spec is affected.
const server = process.env.ALERTWIRE_E2E_AUTO_DISABLE_URL ?? '';
const okReceiver = process.env.ALERTWIRE_E2E_RECEIVER ?? '';
const failingReceiver = process.env.ALERTWIRE_E2E_FAILING_RECEIVER ?? '';

test.describe.configure({ mode: 'serial' });
test.use({ baseURL: server || undefined });

/** Signs in as the admin, doing first-run setup on this server when it is fresh. */
async function signedIn(page: Page) {
  await page.goto('/login');
  if (page.url().endsWith('/setup')) {
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByLabel('Confirm password').fill(admin.password);
    await page.getByRole('button', { name: 'Create admin account' }).click();
  } else {
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await expect(page).toHaveURL(/\/alerts$/);
}

/** An admin API key made in Settings -> API keys (with or without JavaScript). */
async function apiKey(page: Page, name: string, js: boolean) {
  await page.goto('/settings/api-keys');
  if (js) await hydrated(page);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Role').selectOption('admin');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const secret = page.locator('#new-api-key');
  await expect(secret).toHaveText(/^aw_/);
  return { Authorization: `Bearer ${(await secret.textContent())!.trim()}` };
}

type Auth = { Authorization: string };

async function createDestination(request: APIRequestContext, auth: Auth, name: string, url: string) {
  const created = await request.post('/api/v1/destinations', {
    headers: auth,
    data: { name, url, auth: { type: 'none' }, headers: [] },
  });
  expect(created.status()).toBe(201);
  return (await created.json()).destination.id as number;
}

async function deliveries(request: APIRequestContext, auth: Auth, destination: number) {
  const list = await request.get(`/api/v1/deliveries?destination_id=${destination}`, { headers: auth });
  expect(list.status()).toBe(200);
  return (await list.json()).items as { id: number; status: string }[];
}

/** Auto-disable -> banner -> notification received -> enable and redeliver. */
async function flow(page: Page, request: APIRequestContext, js: boolean) {
  const suffix = js ? 'js' : 'nojs';
  const deadName = `Dead endpoint ${suffix}`;
  const opsName = `Ops channel ${suffix}`;
  await signedIn(page);
  const auth = await apiKey(page, `Auto-disable ${suffix}`, js);

  const dead = await createDestination(request, auth, deadName, failingReceiver);
  const ops = await createDestination(request, auth, opsName, okReceiver);
  const rule = await request.post('/api/v1/rules', {
    headers: auth,
    data: { name: `Orders ${suffix}`, alert_type: 'schema', asset_pattern: `${suffix}.*`, destination_ids: [dead] },
  });
  expect(rule.status()).toBe(201);

  // Settings -> Notifications: the ops channel hears of disabled destinations.
  await page.goto('/settings/notifications');
  if (js) await hydrated(page);
  await page.getByLabel(opsName).check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Notification settings saved.')).toBeVisible();
  await expect(page.getByLabel(opsName)).toBeChecked();
  const chosen = await request.get('/api/v1/settings/notifications', { headers: auth });
  expect((await chosen.json()).destination_ids).toContain(ops);

  // Five alerts, each failed at once (401, and one attempt on this server).
  for (let i = 0; i < 5; i++) {
    const posted = await request.post('/api/v1/events', {
      headers: auth,
      data: {
        type: 'schema_change',
        asset: { qualified_name: `${suffix}.orders_${i}`, asset_type: 'table' },
        change_type: 'column_removed',
      },
    });
    expect(posted.status()).toBe(202);
  }
  await expect
    .poll(async () => (await deliveries(request, auth, dead)).filter((d) => d.status === 'failed').length, {
      timeout: 15_000,
    })
    .toBe(5);

  // Ten seconds of failures later it is disabled automatically.
  await expect
    .poll(
      async () => {
        const d = await request.get(`/api/v1/destinations/${dead}`, { headers: auth });
        return (await d.json()).disabled_reason;
      },
      { timeout: 40_000, intervals: [1_000] },
    )
    .toBe('auto');

  // The banner, on every Alerts tab, links to it.
  for (const tab of ['/alerts/rules', '/alerts/deliveries', '/alerts/destinations']) {
    await page.goto(tab);
    const banner = page.getByRole('alert', { name: 'Auto-disabled destinations' });
    await expect(banner).toContainText('disabled automatically');
    await expect(banner.getByRole('link', { name: deadName })).toBeVisible();
  }
  if (js) await hydrated(page);
  await page
    .getByRole('alert', { name: 'Auto-disabled destinations' })
    .getByRole('link', { name: deadName })
    .click();
  await expect(page).toHaveURL(new RegExp(`/alerts/destinations/${dead}$`));
  await expect(page.getByRole('heading', { name: deadName })).toBeVisible();
  await expect(page.locator('.detail-header .badge')).toHaveText('Disabled automatically');
  await expect(page.getByText(/Disabled automatically on .*: every delivery failed since/)).toBeVisible();
  await expect(page.locator('#failed-while-failing')).toHaveText(/^5 deliveries ended failed since /);

  // The notification reached the ops channel: a delivered, recorded delivery.
  await expect
    .poll(async () => (await deliveries(request, auth, ops)).map((d) => d.status), { timeout: 15_000 })
    .toEqual(['delivered']);
  const [note] = await deliveries(request, auth, ops);
  await page.goto(`/alerts/deliveries/${note.id}`);
  await expect(page.locator('pre.body').first()).toContainText('destination.disabled');
  await expect(page.locator('pre.body').first()).toContainText(deadName);
  await expect(page.locator('[data-attempt="1"] .attempt-result')).toHaveText('Status: 200');

  // Meanwhile the endpoint is fixed: it moves to the receiver that answers 200.
  const moved = await request.patch(`/api/v1/destinations/${dead}`, {
    headers: auth,
    data: { url: okReceiver },
  });
  expect(moved.status()).toBe(200);
  expect((await moved.json()).enabled).toBe(false);

  // Enable and redeliver the five that failed.
  await page.goto(`/alerts/destinations/${dead}`);
  if (js) await hydrated(page);
  await page.getByRole('button', { name: 'Enable and redeliver 5 failed deliveries' }).click();
  await expect(page.getByText('Destination enabled. 5 failed deliveries are queued again.')).toBeVisible();
  await expect(page.locator('.detail-header .badge')).toHaveText('Enabled');
  await expect(page.getByRole('alert', { name: 'Auto-disabled destinations' })).toHaveCount(0);
  await expect
    .poll(async () => (await deliveries(request, auth, dead)).filter((d) => d.status === 'delivered').length, {
      timeout: 15_000,
    })
    .toBe(5);
  expect(await deliveries(request, auth, dead)).toHaveLength(5);
  const after = await (await request.get(`/api/v1/destinations/${dead}`, { headers: auth })).json();
  expect(after.disabled_reason).toBeNull();
  expect(after.disabled_at).toBeNull();
}

test('a failing destination is disabled, notifies, and is enabled with its failures redelivered', async ({
  page,
  request,
}) => {
  test.skip(!server || !failingReceiver, 'needs the servers started by scripts/e2e.sh');
  test.setTimeout(120_000);
  await flow(page, request, true);
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('the same with plain form posts', async ({ page, request }) => {
    test.skip(!server || !failingReceiver, 'needs the servers started by scripts/e2e.sh');
    test.setTimeout(120_000);
    await flow(page, request, false);
  });
});
