import { test, expect, Page, APIRequestContext } from '@playwright/test';
import { hydrated, signedInAsAdmin as signedIn } from './support';

// Bulk recovery: the Deliveries tab's "Redeliver failed" for the current
// filter, its confirmation with the count, and the job's page with its
// progress, with JavaScript and without. e2e.sh runs the server with small
// batches and a pause (ALERTWIRE_BULK_BATCH, ALERTWIRE_BULK_PAUSE) so the job
// takes a few batches. Runs after accounts.spec.ts (the admin exists).
test.describe.configure({ mode: 'serial' });

const failing = process.env.ALERTWIRE_E2E_FAILING_RECEIVER ?? '';
const COUNT = 12;

/** An admin API key, made with the form (a plain post works with or without JavaScript). */
async function apiKey(page: Page, name: string) {
  await page.goto('/settings/api-keys');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Role').selectOption('admin');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const secret = page.locator('#new-api-key');
  await expect(secret).toHaveText(/^aw_/);
  return { Authorization: `Bearer ${(await secret.textContent())!.trim()}` };
}

/** A destination answering 401 with COUNT deliveries, each failed for good (retries cancelled). */
async function failedDeliveries(request: APIRequestContext, auth: Record<string, string>, tag: string) {
  const created = await request.post('/api/v1/destinations', {
    headers: auth,
    data: { name: `${tag} 401`, url: failing, auth: { type: 'none' }, headers: [] },
  });
  expect(created.status()).toBe(201);
  const destination: number = (await created.json()).destination.id;
  const prefix = tag.toLowerCase().replace(/[^a-z]/g, '');
  const rule = await request.post('/api/v1/rules', {
    headers: auth,
    data: { name: `${tag} rule`, alert_type: 'schema', asset_pattern: `${prefix}.*`, destination_ids: [destination], enabled: true },
  });
  expect(rule.status()).toBe(201);
  const events = Array.from({ length: COUNT }, (_, i) => ({
    type: 'schema_change',
    asset: { qualified_name: `${prefix}.public.t${i}`, asset_type: 'table' },
  }));
  expect((await request.post('/api/v1/events', { headers: auth, data: events })).status()).toBe(202);
  // The first attempts fail (401) and wait for a retry; cancelling them leaves them failed.
  let ids: number[] = [];
  await expect(async () => {
    const page = await request.get(`/api/v1/deliveries?destination_id=${destination}&status=retrying`, { headers: auth });
    ids = (await page.json()).items.map((d: { id: number }) => d.id);
    expect(ids).toHaveLength(COUNT);
  }).toPass({ timeout: 20_000 });
  for (const id of ids) {
    expect((await request.post(`/api/v1/deliveries/${id}/cancel`, { headers: auth })).status()).toBe(200);
  }
  return destination;
}

test('redeliver the failed deliveries of a filter: count, confirm, follow the job', async ({ page, request }) => {
  test.skip(!failing, 'needs the receivers started by scripts/e2e.sh');
  await signedIn(page);
  const auth = await apiKey(page, 'Bulk e2e');
  const destination = await failedDeliveries(request, auth, 'Bulk JS');

  await page.goto('/alerts/deliveries');
  await hydrated(page);
  await page.getByLabel('Time').selectOption('1h');
  await page.getByLabel('Destination').selectOption({ label: 'Bulk JS 401' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(new RegExp(`destination_id=${destination}`));
  await page.getByRole('link', { name: 'Redeliver failed' }).click();

  // The count first, with the filter in words; nothing is queued yet.
  await expect(page).toHaveURL(/\/alerts\/deliveries\/redeliver\?/);
  await expect(page.getByTestId('redeliver-count')).toContainText(`${COUNT} failed deliveries match: to Bulk JS 401, created since`);
  const stillFailed = await request.get(`/api/v1/deliveries?destination_id=${destination}&status=failed`, { headers: auth });
  expect((await stillFailed.json()).items).toHaveLength(COUNT);
  await hydrated(page);
  await page.getByRole('button', { name: `Redeliver ${COUNT} failed deliveries` }).click();

  // The job's page follows it without a reload until it is done.
  await expect(page).toHaveURL(/\/alerts\/jobs\/\d+$/);
  await expect(page.locator('progress')).toBeVisible();
  await expect(page.locator('dd', { hasText: 'admin@example.com' })).toBeVisible();
  await expect(page.getByTestId('job-state')).toHaveText('Done', { timeout: 15_000 });
  await expect(page.getByTestId('job-progress')).toHaveText(`${COUNT} of ${COUNT} queued again`);
  await expect(page.locator('progress')).toHaveAttribute('value', `${COUNT}`);
  await expect(page.getByRole('button', { name: 'Cancel' })).toHaveCount(0);

  // The same filter again: nothing failed is left to redeliver.
  await page.goBack();
  await page.reload();
  await expect(page.getByTestId('redeliver-count')).toContainText('0 failed deliveries match');
  await expect(page.getByRole('button', { name: /Redeliver \d+ failed/ })).toHaveCount(0);
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('the filter, the time range, the confirmation and the job are plain pages and posts', async ({ page, request }) => {
    test.skip(!failing, 'needs the receivers started by scripts/e2e.sh');
    await signedIn(page);
    const auth = await apiKey(page, 'Bulk no-JS');
    const destination = await failedDeliveries(request, auth, 'Bulk plain');

    // A filter without a time range: the confirmation asks for one.
    await page.goto('/alerts/deliveries');
    await page.getByLabel('Destination').selectOption({ label: 'Bulk plain 401' });
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('link', { name: 'Redeliver failed' }).click();
    await expect(page.getByRole('alert')).toContainText('Choose a time range');
    await page.getByLabel('Time', { exact: true }).selectOption('24h');
    await page.getByRole('button', { name: 'Count' }).click();
    await expect(page).toHaveURL(new RegExp(`destination_id=${destination}.*range=24h|range=24h.*destination_id=${destination}`));
    await expect(page.getByTestId('redeliver-count')).toContainText(`${COUNT} failed deliveries match: to Bulk plain 401`);

    await page.getByRole('button', { name: `Redeliver ${COUNT} failed deliveries` }).click();
    await expect(page).toHaveURL(/\/alerts\/jobs\/\d+$/);
    await expect(page.locator('progress')).toBeVisible();
    // Without JavaScript the page says where the job was; Refresh reads it again.
    await expect(async () => {
      const refresh = page.getByRole('link', { name: 'Refresh' });
      if (await refresh.count()) await refresh.click();
      else await page.reload();
      await expect(page.getByTestId('job-state')).toHaveText('Done', { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
    await expect(page.getByTestId('job-progress')).toHaveText(`${COUNT} of ${COUNT} queued again`);
    const queued = await request.get(`/api/v1/deliveries?destination_id=${destination}&status=failed`, { headers: auth });
    // Queued again, attempted again (the receiver still answers 401): none is failed for good yet.
    expect((await queued.json()).items.length).toBeLessThan(COUNT);
  });
});
