import { test, expect, APIRequestContext, Page } from '@playwright/test';
import { hydrated, signedInAsAdmin as signedIn } from './support';

// Runs after accounts.spec.ts and destinations.spec.ts (files run in name order
// with one worker): the admin exists. Everything this file needs it makes itself.
test.describe.configure({ mode: 'serial' });

const receiver = process.env.ALERTWIRE_E2E_RECEIVER ?? '';
let auth: { Authorization: string } = { Authorization: '' };

/** An admin API key, made in the UI, for the REST calls of this file. */
async function apiKey(page: Page) {
  await page.goto('/settings/api-keys');
  await hydrated(page);
  await page.getByLabel('Name').fill('Live e2e');
  await page.getByLabel('Role').selectOption('admin');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const secret = page.locator('#new-api-key');
  await expect(secret).toHaveText(/^aw_/);
  auth = { Authorization: `Bearer ${(await secret.textContent())!.trim()}` };
}

/** A destination at the receiver answering 200, and a rule sending it schema alerts for `pattern`. */
async function route(request: APIRequestContext, name: string, pattern: string): Promise<number> {
  const created = await request.post('/api/v1/destinations', {
    headers: auth,
    data: { name, url: receiver, auth: { type: 'none' }, headers: [] },
  });
  expect(created.status()).toBe(201);
  const id: number = (await created.json()).destination.id;
  const rule = await request.post('/api/v1/rules', {
    headers: auth,
    data: { name: `${name} rule`, alert_type: 'schema', asset_pattern: pattern, destination_ids: [id] },
  });
  expect(rule.status()).toBe(201);
  return id;
}

async function postEvent(request: APIRequestContext, qualifiedName: string): Promise<string> {
  const posted = await request.post('/api/v1/events', {
    headers: auth,
    data: { type: 'schema_change', asset: { qualified_name: qualifiedName, asset_type: 'table' } },
  });
  expect(posted.status()).toBe(202);
  return (await posted.json()).alerts[0].id;
}

/** Marks the loaded document: the mark survives only if the page is never reloaded. */
async function mark(page: Page) {
  await page.evaluate(() => ((window as any).__not_reloaded = true));
}

async function notReloaded(page: Page) {
  expect(await page.evaluate(() => (window as any).__not_reloaded)).toBe(true);
}

test('open pages follow deliveries as they change, without a reload', async ({ page, request }) => {
  test.skip(!receiver, 'needs the receivers started by scripts/e2e.sh');
  await signedIn(page);
  await apiKey(page);
  await route(request, 'Live e2e receiver', 'live.*');

  // The Deliveries tab: a delivery posted through the API appears and turns Delivered.
  await page.goto('/alerts/deliveries');
  await hydrated(page);
  const status = page.locator('.live-status');
  await expect(status).toHaveAttribute('data-live', 'live');
  await expect(status).toContainText('Live');
  await mark(page);
  const posted = Date.now();
  const alertId = await postEvent(request, 'live.orders');
  // Timed by a check on every frame (an expect polls too seldom to time it).
  const rowIs = async (badge: string | null) =>
    page.waitForFunction(
      ([id, badge]) =>
        [...document.querySelectorAll('tbody tr')].some(
          (tr) => tr.textContent!.includes(id!) && (badge === null || tr.querySelector('.badge')?.textContent === badge),
        ),
      [alertId, badge],
      { polling: 'raf', timeout: 10_000 },
    );
  await rowIs(null);
  const shown = Date.now() - posted;
  await rowIs('Delivered');
  const delivered = Date.now() - posted;
  const row = page.locator('tbody tr', { hasText: alertId });
  await expect(row.locator('.badge')).toHaveText('Delivered');
  await expect(row).toContainText('HTTP 200');
  console.log(`live status: the new row showed ${shown} ms and Delivered ${delivered} ms after the event was posted`);
  await notReloaded(page);

  // A filter chosen but not yet submitted survives the list's reloads.
  await page.locator('#filter-status').selectOption('failed');
  await page.locator('h1, h2').first().click(); // no field keeps the focus: reloads do not wait
  const second = await postEvent(request, 'live.customers');
  await expect(page.locator('tbody tr', { hasText: second }).locator('.badge')).toHaveText('Delivered');
  await expect(page.locator('#filter-status')).toHaveValue('failed');
  await expect(page).toHaveURL(/\/alerts\/deliveries$/);

  // A delivery's page: a redelivery's second attempt appears.
  await row.getByRole('link', { name: 'Details' }).click();
  await expect(page).toHaveURL(/\/alerts\/deliveries\/\d+$/);
  const deliveryId = page.url().split('/').pop();
  await hydrated(page);
  await expect(status).toHaveAttribute('data-live', 'live');
  await mark(page);
  await expect(page.locator('[data-attempt="1"] .attempt-result')).toHaveText('Status: 200');
  const redelivered = await request.post(`/api/v1/deliveries/${deliveryId}/redeliver`, { headers: auth });
  expect(redelivered.status()).toBe(202);
  await expect(page.locator('[data-attempt="2"] .attempt-result')).toHaveText('Status: 200');
  await expect(page.getByRole('heading', { name: 'Attempts (2)' })).toBeVisible();
  await notReloaded(page);

  // A destination's page: its last result follows its deliveries, and the
  // settings form keeps what is being typed meanwhile.
  const fresh = await route(request, 'Live e2e fresh', 'fresh.*');
  await page.goto(`/alerts/destinations/${fresh}`);
  await hydrated(page);
  await expect(status).toHaveAttribute('data-live', 'live');
  await mark(page);
  const lastResult = page.locator('p', { hasText: 'Last result:' });
  await expect(lastResult).toContainText('Not tested yet');
  await page.getByLabel('Destination Name').fill('Live e2e renamed, not saved');
  await postEvent(request, 'fresh.orders');
  await expect(lastResult.locator('.badge.ok')).toContainText('200');
  await expect(page.getByLabel('Destination Name')).toHaveValue('Live e2e renamed, not saved');
  await notReloaded(page);
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('the pages are static, with a Refresh link', async ({ page, request }) => {
    test.skip(!receiver, 'needs the receivers started by scripts/e2e.sh');
    await signedIn(page);
    await page.goto('/alerts/deliveries');
    const refresh = page.locator('.live-status').getByRole('link', { name: 'Refresh' });
    await expect(refresh).toBeVisible();
    await expect(page.locator('.live-status')).toHaveAttribute('data-live', 'static');

    const alertId = await postEvent(request, 'live.static');
    const row = page.locator('tbody tr', { hasText: alertId });
    // Nothing moves by itself without JavaScript...
    await page.waitForTimeout(1_500);
    await expect(row).toHaveCount(0);
    // ...and Refresh shows the delivery.
    await expect(async () => {
      await refresh.click();
      await expect(row.locator('.badge')).toHaveText('Delivered', { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
    await expect(page).toHaveURL(/\/alerts\/deliveries$/);

    // The filters stay in the Refresh link.
    await page.goto('/alerts/deliveries?status=delivered');
    await expect(page.locator('.live-status').getByRole('link', { name: 'Refresh' })).toHaveAttribute(
      'href',
      '/alerts/deliveries?status=delivered',
    );
    await page.getByRole('link', { name: 'Details' }).first().click();
    await expect(page.locator('.live-status').getByRole('link', { name: 'Refresh' })).toBeVisible();
  });
});
