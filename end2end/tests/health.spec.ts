import { test, expect, APIRequestContext, Page } from '@playwright/test';
import { admin, hydrated, signedInAsAdmin as signedIn } from './support';

// Destination health: the charts and figures on a destination's page with
// mixed results (the receiver answering 200, then the one answering 401), the
// Destinations list's badge, and Send Test Alert history. Runs after
// accounts.spec.ts (files run in name order with one worker): the admin exists.
test.describe.configure({ mode: 'serial' });

const receiver = process.env.ALERTWIRE_E2E_RECEIVER ?? '';
const failing = process.env.ALERTWIRE_E2E_FAILING_RECEIVER ?? '';
const name = 'Health e2e mixed';
let auth: { Authorization: string } = { Authorization: '' };
let id = 0;

/** An admin API key, made in the UI, for the REST calls of this file. */
async function apiKey(page: Page) {
  await page.goto('/settings/api-keys');
  await hydrated(page);
  await page.getByLabel('Name').fill('Health e2e');
  await page.getByLabel('Role').selectOption('admin');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const secret = page.locator('#new-api-key');
  await expect(secret).toHaveText(/^aw_/);
  auth = { Authorization: `Bearer ${(await secret.textContent())!.trim()}` };
}

async function health(request: APIRequestContext, window = '24h') {
  const r = await request.get(`/api/v1/destinations/${id}/health?window=${window}`, { headers: auth });
  expect(r.status()).toBe(200);
  return r.json();
}

async function postEvent(request: APIRequestContext, qualifiedName: string) {
  const posted = await request.post('/api/v1/events', {
    headers: auth,
    data: { type: 'schema_change', asset: { qualified_name: qualifiedName, asset_type: 'table' } },
  });
  expect(posted.status()).toBe(202);
}

/** The figures on the page are the API's. */
async function figuresMatch(page: Page, request: APIRequestContext, window: string) {
  const h = await health(request, window);
  await expect(page.locator('#health-success-rate')).toHaveText(`${(h.success_rate * 100).toFixed(1)}%`);
  await expect(page.locator('#health-attempts')).toHaveText(
    `${h.attempts} (${h.succeeded} succeeded, ${h.failed} failed)`,
  );
  await expect(page.locator('#health-consecutive')).toHaveText(String(h.consecutive_failures));
  await expect(page.locator('#health-p95')).toHaveText(`≤ ${h.p95_ms} ms`);
  await expect(page.locator('#health-last-error')).toContainText('401');
  await expect(page.locator('#health-state')).toHaveText('Failing');
  // The charts are SVG drawn on the server: bars of both kinds, and the latency points.
  expect(await page.locator('svg.chart.outcomes rect.part.ok').count()).toBeGreaterThan(0);
  expect(await page.locator('svg.chart.outcomes rect.part.c4xx').count()).toBeGreaterThan(0);
  expect(await page.locator('svg.chart.latency circle.p95').count()).toBeGreaterThan(0);
  await expect(page.locator('#health .legend').first()).toContainText(`HTTP 4xx: ${h.outcomes.http_4xx}`);
}

async function badge(page: Page) {
  await page.goto('/alerts/destinations');
  const row = page.locator('tbody tr', { hasText: name });
  await expect(row.locator('.badge.health')).toHaveText('Failing');
}

test('a destination with mixed results shows its health and test sends', async ({ page, request }) => {
  test.skip(!receiver || !failing, 'needs the receivers started by scripts/e2e.sh');
  await signedIn(page);
  await apiKey(page);
  const created = await request.post('/api/v1/destinations', {
    headers: auth,
    data: { name, url: receiver, auth: { type: 'none' }, headers: [] },
  });
  expect(created.status()).toBe(201);
  id = (await created.json()).destination.id;
  const rule = await request.post('/api/v1/rules', {
    headers: auth,
    data: { name: `${name} rule`, alert_type: 'schema', asset_pattern: 'health.*', destination_ids: [id] },
  });
  expect(rule.status()).toBe(201);

  // Three delivered, then one refused (401) after pointing it at the other receiver.
  for (const n of [1, 2, 3]) await postEvent(request, `health.ok${n}`);
  await expect.poll(async () => (await health(request)).succeeded, { timeout: 15_000 }).toBe(3);
  const patched = await request.patch(`/api/v1/destinations/${id}`, { headers: auth, data: { url: failing } });
  expect(patched.status()).toBe(200);
  await postEvent(request, 'health.refused');
  await expect.poll(async () => (await health(request)).failed, { timeout: 15_000 }).toBe(1);

  await page.goto(`/alerts/destinations/${id}`);
  await hydrated(page);
  await figuresMatch(page, request, '24h');
  await expect(page.locator('#health figcaption').first()).toContainText('per hour');
  await expect(page.locator('#recent-deliveries tbody tr')).toHaveCount(4);
  await expect(page.getByRole('link', { name: 'All deliveries to this destination' })).toHaveAttribute(
    'href',
    `/alerts/deliveries?destination_id=${id}`,
  );

  // The 7-day view, in place.
  await page.getByRole('link', { name: 'Last 7 days' }).click();
  await expect(page).toHaveURL(/window=7d/);
  await expect(page.locator('#health figcaption').first()).toContainText('per day');
  await figuresMatch(page, request, '7d');

  // Send Test Alert (to the stored URL, the 401 receiver): listed at once, not counted.
  const before = await health(request);
  await expect(page.locator('#test-sends')).toContainText('No test sent yet.');
  await page.getByRole('button', { name: 'Send Test Alert' }).click();
  await expect(page.getByTestId('test-report')).toContainText('401');
  const sent = page.locator('#test-sends tbody tr');
  await expect(sent).toHaveCount(1);
  await expect(sent.first()).toContainText(admin.email);
  await expect(sent.first()).toContainText('401 Unauthorized');
  const after = await health(request);
  expect(after.attempts).toBe(before.attempts);
  await expect(page.locator('#recent-deliveries tbody tr')).toHaveCount(4);

  await badge(page);
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('the health panel, the badge and test sends work without JavaScript', async ({ page, request }) => {
    test.skip(!receiver || !failing || id === 0, 'needs the destination made by the test above');
    await signedIn(page);
    await page.goto(`/alerts/destinations/${id}?window=7d`);
    await expect(page.locator('#health figcaption').first()).toContainText('per day');
    await figuresMatch(page, request, '7d');
    await page.getByRole('link', { name: 'Last 24 hours' }).click();
    await expect(page).toHaveURL(/window=24h/);
    await expect(page.locator('#health figcaption').first()).toContainText('per hour');
    await figuresMatch(page, request, '24h');

    await page.getByRole('button', { name: 'Send Test Alert' }).click();
    await expect(page.getByTestId('test-report')).toContainText('401');
    await expect(page.locator('#test-sends tbody tr')).toHaveCount(2);
    await expect(page.locator('#test-sends tbody tr').first()).toContainText(admin.email);

    await badge(page);
  });
});
