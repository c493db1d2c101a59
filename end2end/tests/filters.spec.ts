import { test, expect, Page, APIRequestContext } from '@playwright/test';
import { hydrated, signedInAsAdmin as signedIn } from './support';

// The Deliveries tab's filters (time range, destination, search) and a
// delivery's page (explained failure, Cancel retries), with JavaScript and
// without. Runs after accounts.spec.ts (the admin exists) and after destinations.spec.ts, which expects
// to be the first to make destinations.
test.describe.configure({ mode: 'serial' });

const receiver = process.env.ALERTWIRE_E2E_RECEIVER ?? '';
const failing = process.env.ALERTWIRE_E2E_FAILING_RECEIVER ?? '';

/** An admin API key made in the UI, as an Authorization header. */
async function apiKey(page: Page, name: string) {
  await page.goto('/settings/api-keys');
  await hydrated(page);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Role').selectOption('admin');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const secret = page.locator('#new-api-key');
  await expect(secret).toHaveText(/^aw_/);
  return { Authorization: `Bearer ${(await secret.textContent())!.trim()}` };
}

/** Two destinations (one answering 200, one 401), a rule for both, one event. */
async function scenario(request: APIRequestContext, auth: Record<string, string>, tag: string) {
  const ids: number[] = [];
  for (const [name, url] of [[`${tag} OK`, receiver], [`${tag} 401`, failing]]) {
    const created = await request.post('/api/v1/destinations', {
      headers: auth,
      data: { name, url, auth: { type: 'none' }, headers: [] },
    });
    expect(created.status()).toBe(201);
    ids.push((await created.json()).destination.id);
  }
  const asset = `${tag.toLowerCase()}.public.orders`;
  const rule = await request.post('/api/v1/rules', {
    headers: auth,
    data: { name: `${tag} rule`, alert_type: 'schema', asset_pattern: `${tag.toLowerCase()}.*`, destination_ids: ids, enabled: true },
  });
  expect(rule.status()).toBe(201);
  const posted = await request.post('/api/v1/events', {
    headers: auth,
    data: { type: 'schema_change', asset: { qualified_name: asset, asset_type: 'table' }, details: { column: 'x' } },
  });
  expect(posted.status()).toBe(202);
  const alertId: string = (await posted.json()).alerts[0].id;
  return { alertId, asset };
}

test('filter deliveries by time range, destination and search; a failure explained and cancelled', async ({ page, request }) => {
  test.skip(!receiver || !failing, 'needs the receivers started by scripts/e2e.sh');
  await signedIn(page);
  const auth = await apiKey(page, 'Filters e2e');
  const { alertId, asset } = await scenario(request, auth, 'Filters');

  // Last hour, the 200 destination: its row turns Delivered, with event and asset.
  await page.goto('/alerts/deliveries');
  await hydrated(page);
  await page.getByLabel('Time').selectOption('1h');
  await page.getByLabel('Destination').selectOption({ label: 'Filters OK' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/range=1h/);
  await expect(page).toHaveURL(/destination_id=\d+/);
  const row = page.locator('tbody tr', { hasText: alertId });
  await expect(async () => {
    await page.reload();
    await expect(row.locator('.badge')).toHaveText('Delivered', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Schema change');
  await expect(row).toContainText(asset);
  await expect(row.locator('time .relative').first()).toHaveText(/ago|just now/);
  await expect(page.getByLabel('Time')).toHaveValue('1h');

  // Search by the alert id: both destinations' deliveries of that alert.
  await page.goto('/alerts/deliveries');
  await hydrated(page);
  await page.getByLabel('Search').fill(alertId);
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(new RegExp(`q=${alertId}`));
  await expect(page.locator('tbody tr')).toHaveCount(2);

  // A range in the future matches nothing; an inverted one is refused.
  await page.goto('/alerts/deliveries?since=2099-01-01T00:00&until=2099-01-02T00:00');
  await expect(page.getByText('No deliveries match')).toBeVisible();
  await page.goto('/alerts/deliveries?since=2099-01-02T00:00&until=2099-01-01T00:00');
  await expect(page.getByRole('alert')).toContainText('To must be later than From');

  // The 401 destination's delivery: retrying, its failure explained, then cancelled.
  await page.goto(`/alerts/deliveries?q=${alertId}&status=retrying`);
  const retrying = page.locator('tbody tr', { hasText: 'Filters 401' });
  await expect(async () => {
    await page.reload();
    await expect(retrying).toHaveCount(1, { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await hydrated(page);
  await retrying.getByRole('link', { name: 'Details' }).click();
  await expect(page).toHaveURL(/\/alerts\/deliveries\/\d+$/);
  await expect(page.locator('header.detail-header').first().locator('.badge')).toHaveText('Retrying');
  await expect(page.locator('[data-attempt="1"] .failure h4')).toHaveText('"401 Unauthorized"');
  await expect(page.locator('[data-attempt="1"] .failure')).toContainText('Verify the token/API key is correct');
  await expect(page.getByTestId('body-pretty')).toContainText(`"id": "${alertId}"`);
  await hydrated(page);
  await page.getByRole('button', { name: 'Cancel retries' }).click();
  await expect(page.getByText('Retries cancelled: no more attempts')).toBeVisible();
  await expect(page.locator('header.detail-header').first().locator('.badge')).toHaveText('Failed');
  await expect(page.getByText('Retries cancelled by admin@example.com')).toBeVisible();
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('the filters are a plain GET form and Cancel retries a plain post', async ({ page, request }) => {
    test.skip(!receiver || !failing, 'needs the receivers started by scripts/e2e.sh');
    await signedIn(page);
    // Keys are made with JavaScript in the first test's way; here the server renders the new key after a post.
    await page.goto('/settings/api-keys');
    await page.getByLabel('Name').fill('Filters no-JS');
    await page.getByLabel('Role').selectOption('admin');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const secret = page.locator('#new-api-key');
    await expect(secret).toHaveText(/^aw_/);
    const auth = { Authorization: `Bearer ${(await secret.textContent())!.trim()}` };
    const { alertId, asset } = await scenario(request, auth, 'Plain');

    await page.goto('/alerts/deliveries');
    await page.getByLabel('Time').selectOption('24h');
    await page.getByLabel('Search').fill('plain.public');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page).toHaveURL(/range=24h/);
    await expect(page).toHaveURL(/q=plain\.public/);
    await expect(page.locator('tbody tr')).toHaveCount(2);
    await expect(page.locator('tbody tr').first()).toContainText(asset);

    await page.getByLabel('Destination').selectOption({ label: 'Plain 401' });
    await page.getByRole('button', { name: 'Filter' }).click();
    const row = page.locator('tbody tr', { hasText: alertId });
    await expect(row).toHaveCount(1);
    await row.getByRole('link', { name: 'Details' }).click();
    await expect(async () => {
      await page.reload();
      await expect(page.locator('header.detail-header').first().locator('.badge')).toHaveText('Retrying', { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Cancel retries' }).click();
    await expect(page).toHaveURL(/cancelled=1/);
    await expect(page.getByText('Retries cancelled: no more attempts')).toBeVisible();
    await expect(page.locator('header.detail-header').first().locator('.badge')).toHaveText('Failed');
  });
});
