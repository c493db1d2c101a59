import { test, expect, Page } from '@playwright/test';
import { hydrated, signedInAsAdmin as signedIn } from './support';

// Runs after accounts.spec.ts and destinations.spec.ts (files run in name order
// with one worker): the admin exists. Everything this file needs it makes itself.
test.describe.configure({ mode: 'serial' });

const receiver = process.env.ALERTWIRE_E2E_RECEIVER ?? '';
const destinationName = 'Rules e2e receiver';
const ruleName = 'Orders schema changes';

test('a rule made in the UI turns a posted event into a delivered alert', async ({ page, request }) => {
  test.skip(!receiver, 'needs the receivers started by scripts/e2e.sh');
  await signedIn(page);

  // An API key, made in the UI, for the REST calls below.
  await page.goto('/settings/api-keys');
  await hydrated(page);
  await page.getByLabel('Name').fill('Rules e2e');
  // This key also makes destinations: the proposed role, ingest, would only post events.
  await page.getByLabel('Role').selectOption('admin');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const secret = page.locator('#new-api-key');
  await expect(secret).toHaveText(/^aw_/);
  const auth = { Authorization: `Bearer ${(await secret.textContent())!.trim()}` };

  // A destination pointing at the receiver that answers 200.
  const created = await request.post('/api/v1/destinations', {
    headers: auth,
    data: { name: destinationName, url: receiver, auth: { type: 'none' }, headers: [] },
  });
  expect(created.status()).toBe(201);

  // Alerts -> Rules -> Add rule.
  await page.getByRole('link', { name: 'Alerts' }).click();
  const tabs = page.getByRole('navigation', { name: 'Alerts' });
  await tabs.getByRole('link', { name: 'Rules' }).click();
  await expect(page).toHaveURL(/\/alerts\/rules$/);
  await page.getByRole('link', { name: 'Add rule' }).click();
  await expect(page.getByRole('heading', { name: 'Add rule' })).toBeVisible();

  // Nothing filled in: the messages next to their fields, without a reload.
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#rule-name-error')).toHaveText('Give the rule a name');
  await expect(page.locator('#rule-destination_ids-error')).toHaveText('Choose at least one destination');
  await expect(page).toHaveURL(/\/alerts\/rules\/new$/);

  await page.getByLabel('Rule Name').fill(ruleName);
  await page.getByLabel('Alert Type').selectOption('schema');
  await page.getByLabel('Asset Pattern').fill('production.public.*');
  await page.getByLabel(destinationName).check();
  await expect(page.getByLabel('Enabled')).toBeChecked();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/alerts\/rules\/\d+\?saved=1$/);
  await expect(page.getByText('Rule saved.')).toBeVisible();
  await expect(page.getByLabel('Rule Name')).toHaveValue(ruleName);
  await expect(page.getByLabel(destinationName)).toBeChecked();

  await page.goto('/alerts/rules');
  const ruleRow = page.getByRole('row', { name: new RegExp(ruleName) });
  await expect(ruleRow).toContainText('Schema change');
  await expect(ruleRow).toContainText('production.public.*');
  await expect(ruleRow).toContainText(destinationName);
  await expect(ruleRow).toContainText('Enabled');

  // An event through the REST API raises one alert from this rule.
  const posted = await request.post('/api/v1/events', {
    headers: auth,
    data: {
      type: 'schema_change',
      asset: { qualified_name: 'production.public.orders', asset_type: 'table' },
      change_type: 'column_added',
      details: { column: 'discount_code' },
    },
  });
  expect(posted.status()).toBe(202);
  const { alerts } = await posted.json();
  expect(alerts).toHaveLength(1);
  const alertId: string = alerts[0].id;
  expect(alertId).toMatch(/^alert_/);
  expect(alerts[0].rule_name).toBe(ruleName);

  // Deliveries: delivered within seconds.
  await page.goto('/alerts/deliveries');
  const delivery = page.locator('tbody tr', { hasText: alertId }).filter({ hasText: destinationName });
  await expect(async () => {
    await page.reload();
    await expect(delivery.locator('.badge')).toHaveText('Delivered', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(delivery).toContainText('HTTP 200');

  // The filters are a GET form: the address carries them.
  await page.getByLabel('Status').selectOption('delivered');
  await page.getByLabel('Destination').selectOption({ label: destinationName });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/status=delivered/);
  await expect(page).toHaveURL(/destination_id=\d+/);
  await expect(delivery).toBeVisible();
  await page.getByLabel('Status').selectOption('failed');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/status=failed/);
  await expect(delivery).toHaveCount(0);

  // By alert: the alert with each delivery's state.
  await page.goto('/alerts/deliveries?view=alerts');
  const alertRow = page.locator('tbody tr', { hasText: alertId });
  await expect(alertRow).toContainText(ruleName);
  await expect(alertRow).toContainText('production.public.orders');
  await expect(alertRow.getByRole('listitem').filter({ hasText: destinationName })).toContainText('Delivered');

  // The alert's own page, where links.alert_url points.
  await page.goto(`/alerts/${alertId}`);
  await expect(page.getByRole('heading', { name: `Alert ${alertId}` })).toBeVisible();
  await expect(page.getByText('production.public.orders')).toBeVisible();
  await hydrated(page);
  await page.getByRole('row', { name: new RegExp(destinationName) }).getByRole('link', { name: 'Details' }).click();

  // The delivery: its body, and attempt 1 with the receiver's 200.
  await expect(page).toHaveURL(/\/alerts\/deliveries\/\d+$/);
  await expect(page.getByRole('heading', { name: /^Delivery \d+$/ })).toBeVisible();
  await expect(page.getByTestId('body-pretty')).toContainText(alertId);
  const first = page.locator('[data-attempt="1"]');
  await expect(first.getByRole('heading', { name: 'Attempt 1' })).toBeVisible();
  await expect(first.locator('.attempt-result')).toHaveText('Status: 200');
  await first.getByText('Request headers').click();
  await expect(first).toContainText('webhook-signature');

  // Admins can send it again: a second attempt follows.
  await page.getByRole('button', { name: 'Redeliver' }).click();
  await expect(page.getByText('Queued again')).toBeVisible();
  await expect(async () => {
    await page.reload();
    await expect(page.locator('[data-attempt="2"] .attempt-result')).toHaveText('Status: 200', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });

  // Unknown alert ids are a 404.
  const missing = await page.goto('/alerts/alert_doesnotexist');
  expect(missing?.status()).toBe(404);
  await expect(page.getByText('No such alert')).toBeVisible();
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('the rule form works with plain form posts', async ({ page }) => {
    test.skip(!receiver, 'needs the receivers started by scripts/e2e.sh');
    await signedIn(page);
    await page.goto('/alerts/rules/new');
    await page.getByLabel('Alert Type').selectOption('freshness');
    await page.getByLabel('Asset Pattern').fill('staging.*');
    await page.getByLabel(destinationName).check();
    await page.getByRole('button', { name: 'Save' }).click();

    // The page reloads with the message and every value as sent.
    await expect(page.locator('#rule-name-error')).toHaveText('Give the rule a name');
    await expect(page.getByLabel('Alert Type')).toHaveValue('freshness');
    await expect(page.getByLabel('Asset Pattern')).toHaveValue('staging.*');
    await expect(page.getByLabel(destinationName)).toBeChecked();
    await expect(page.getByLabel('Enabled')).toBeChecked();

    await page.getByLabel('Rule Name').fill('No-script rule');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page).toHaveURL(/\/alerts\/rules\/\d+\?saved=1$/);
    await expect(page.getByText('Rule saved.')).toBeVisible();
    await expect(page.getByLabel(destinationName)).toBeChecked();

    await page.getByRole('button', { name: 'Disable' }).click();
    await expect(page.locator('.detail-header .badge')).toHaveText('Disabled');

    await page.getByText('Delete rule…').click();
    await page.getByRole('button', { name: 'Delete rule' }).click();
    await expect(page).toHaveURL(/\/alerts\/rules$/);
    await expect(page.getByRole('link', { name: ruleName })).toBeVisible();
    await expect(page.getByRole('link', { name: 'No-script rule' })).toHaveCount(0);
  });
});
