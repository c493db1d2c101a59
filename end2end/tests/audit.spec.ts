import { test, expect, Page } from '@playwright/test';
import { admin, hydrated, signedInAsAdmin } from './support';

// After accounts.spec.ts (files run in order): the admin exists.
test.describe.configure({ mode: 'serial' });

const robot = 'Audit robot';
const robotDestination = 'Made by the audit robot';

/** The rows of the audit log on the page. */
function entries(page: Page) {
  return page.locator('table.audit-log tbody tr');
}

test('the audit log shows a change just made and filters by actor', async ({ page, request }) => {
  await signedInAsAdmin(page);
  await page.goto('/settings/api-keys');
  await hydrated(page);
  await page.getByLabel('Name').fill(robot);
  await page.getByLabel('Role').selectOption('admin');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const secret = (await page.locator('#new-api-key').textContent())!.trim();
  expect(secret).toMatch(/^aw_/);

  // The key makes a change through the API.
  const created = await request.post('/api/v1/destinations', {
    headers: { Authorization: `Bearer ${secret}` },
    data: { name: robotDestination, url: 'https://93.184.216.34/audit' },
  });
  expect(created.status()).toBe(201);

  // Settings -> Audit log, through the tabs.
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(/\/settings\/audit-log$/);
  await hydrated(page);
  const byRobot = entries(page).filter({ hasText: robotDestination });
  await expect(byRobot).toHaveCount(1);
  await expect(byRobot.getByRole('cell', { name: 'Created', exact: true })).toBeVisible();
  await expect(byRobot).toContainText(`${robot} (API key)`);
  await expect(byRobot).toContainText('127.0.0.1');
  // The admin made the key a moment before.
  const byAdmin = entries(page).filter({ hasText: admin.email }).filter({ hasText: robot });
  await expect(byAdmin.first()).toContainText('Created');

  // Only the key's entries.
  await page.getByLabel('Actor').selectOption({ label: `${robot} (API key)` });
  await page.getByRole('button', { name: 'Filter' }).click();
  // A GET form: the filter (and the empty ones) land in the address.
  await expect(page).toHaveURL(/\/settings\/audit-log\?actor=api_key%3A\d+(&|$)/);
  await expect(entries(page)).toHaveCount(1);
  await expect(entries(page).first()).toContainText(robotDestination);
  await expect(page.getByLabel('Actor')).toHaveValue(/^api_key:\d+$/);
});

test('an editor has no audit log', async ({ page, browser }) => {
  await signedInAsAdmin(page);
  const other = await browser.newContext();
  const editorPage = await other.newPage();
  await editorPage.goto('/login');
  await editorPage.getByLabel('Email').fill('editor@example.com');
  await editorPage.getByLabel('Password').fill('editor horse battery');
  await editorPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(editorPage).toHaveURL(/\/alerts$/);
  await editorPage.getByRole('link', { name: 'Settings' }).click();
  await expect(
    editorPage.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Audit log' }),
  ).toHaveCount(0);
  const response = await editorPage.goto('/settings/audit-log');
  expect(response?.status()).toBe(403);
  await expect(editorPage.getByText('You do not have permission to see this page')).toBeVisible();
  await other.close();
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('the audit log shows a change and filters by actor and object', async ({ page }) => {
    await signedInAsAdmin(page);
    await page.goto('/settings/api-keys');
    await page.getByLabel('Name').fill('No-script audited key');
    await page.getByRole('button', { name: 'Create API key' }).click();
    await expect(page.locator('#new-api-key')).toHaveText(/^aw_/);

    await page.goto('/settings/audit-log');
    const made = entries(page).filter({ hasText: 'No-script audited key' });
    await expect(made).toHaveCount(1);
    await expect(made).toContainText('Created');
    await expect(made).toContainText(admin.email);
    await expect(entries(page).filter({ hasText: robotDestination })).toHaveCount(1);

    // A plain GET form: the filter lands in the address.
    await page.getByLabel('Actor').selectOption({ label: `${admin.email} (User)` });
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page).toHaveURL(/\/settings\/audit-log\?actor=user%3A\d+(&|$)/);
    await expect(entries(page).filter({ hasText: robotDestination })).toHaveCount(0);
    const rows = await entries(page).all();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      await expect(row).toContainText(admin.email);
    }

    // An object's link filters to that object.
    await made.getByRole('link', { name: 'No-script audited key' }).click();
    await expect(page).toHaveURL(/\/settings\/audit-log\?object=api_key%3A\d+$/);
    await expect(entries(page)).toHaveCount(1);
    await expect(page.getByLabel('Object')).toHaveValue(/^api_key:\d+$/);

    // A bad time is named, and the form stays.
    await page.goto('/settings/audit-log?since=yesterday');
    await expect(page.getByRole('alert')).toContainText('since is a time like 2024-01-15T08:00:00Z');
    await expect(page.getByRole('search', { name: 'Filter the audit log' })).toBeVisible();
  });
});
