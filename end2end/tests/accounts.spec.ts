import { test, expect, Page } from '@playwright/test';

// These run in order against one fresh server: the first performs first-run setup.
test.describe.configure({ mode: 'serial' });

const admin = { email: 'admin@example.com', password: 'correct horse battery' };
const editor = { email: 'editor@example.com', password: 'editor horse battery' };

/** Waits until the WASM bundle has hydrated the page. */
async function hydrated(page: Page) {
  await page.waitForFunction(() => (window as any).__alertwire_hydrated === true);
}

async function signIn(page: Page, who: { email: string; password: string }) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in and waits for the Alerts area, so the session cookie is set. */
async function signedIn(page: Page, who: { email: string; password: string }) {
  await signIn(page, who);
  await expect(page).toHaveURL(/\/alerts$/);
}

test('first-run setup, sign out, sign in, and the Alerts area', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole('heading', { name: 'Welcome to Alertwire' })).toBeVisible();

  // Bad input first: messages next to the fields, nothing created.
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByLabel('Confirm password').fill('short');
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await expect(page.locator('#email-error')).toHaveText('Enter a valid email address, like name@example.com');
  await expect(page.locator('#password-error')).toHaveText('Use at least 12 characters');
  await expect(page.getByLabel('Email')).toHaveValue('not-an-email');

  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password', { exact: true }).fill(admin.password);
  await page.getByLabel('Confirm password').fill(admin.password);
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await expect(page).toHaveURL(/\/alerts$/);
  await expect(page.locator('.user-email')).toHaveText(admin.email);
  await expect(page.locator('.role')).toHaveText('Admin');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);

  await signIn(page, admin);
  await expect(page).toHaveURL(/\/alerts$/);
  await hydrated(page);
  await page.getByRole('link', { name: 'Alerts' }).click();
  const tabs = page.getByRole('navigation', { name: 'Alerts' });
  for (const name of ['Rules', 'Destinations', 'Deliveries']) {
    await expect(tabs.getByRole('link', { name })).toBeVisible();
  }
  await tabs.getByRole('link', { name: 'Destinations' }).click();
  await expect(page).toHaveURL(/\/alerts\/destinations$/);
  await expect(page.getByRole('heading', { name: 'No destinations yet' })).toBeVisible();
  await tabs.getByRole('link', { name: 'Deliveries' }).click();
  await expect(page.getByRole('heading', { name: 'No deliveries yet' })).toBeVisible();
});

test('a wrong password shows the error', async ({ page }) => {
  await signIn(page, { email: admin.email, password: 'not the right one' });
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole('alert')).toHaveText('Invalid email or password');
  await expect(page.getByLabel('Email')).toHaveValue(admin.email);
});

test('an admin creates an editor, who cannot open Settings -> Users', async ({ page, browser }) => {
  await signedIn(page, admin);
  await hydrated(page);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Users' }).click();
  await expect(page).toHaveURL(/\/settings\/users$/);

  const form = page.locator('section', { has: page.getByRole('heading', { name: 'Add a user' }) });
  await form.getByLabel('Email').fill(editor.email);
  await form.getByLabel('Password', { exact: true }).fill(editor.password);
  await form.getByLabel('Confirm password').fill(editor.password);
  await form.getByLabel('Role').selectOption('editor');
  await form.getByRole('button', { name: 'Add user' }).click();
  // Hydrated: the list updates without a reload.
  await expect(form.getByText('User created.')).toBeVisible();
  await expect(page.getByRole('cell', { name: editor.email, exact: true })).toBeVisible();

  const other = await browser.newContext();
  const editorPage = await other.newPage();
  await signIn(editorPage, editor);
  await expect(editorPage).toHaveURL(/\/alerts$/);
  await expect(editorPage.locator('.role')).toHaveText('Editor');
  await editorPage.getByRole('link', { name: 'Settings' }).click();
  await expect(editorPage.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Users' })).toHaveCount(0);
  const response = await editorPage.goto('/settings/users');
  expect(response?.status()).toBe(403);
  await expect(editorPage.getByText('You do not have permission to see this page')).toBeVisible();
  await other.close();
});

test('API keys are shown once and can be revoked', async ({ page }) => {
  await signedIn(page, admin);
  await page.goto('/settings/api-keys');
  await hydrated(page);
  await page.getByLabel('Name').fill('Production monitor');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const secret = page.locator('#new-api-key');
  await expect(secret).toHaveText(/^aw_/);
  await expect(page.getByRole('cell', { name: 'Production monitor', exact: true })).toBeVisible();
  await page.reload();
  await expect(page.locator('#new-api-key')).toHaveCount(0);
  await hydrated(page);
  await page.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByText(/^Revoked /)).toBeVisible();
});

test('a key made in the UI is an ingest key: it posts events and reads nothing', async ({ page, request }) => {
  await signedIn(page, admin);
  await page.goto('/settings/api-keys');
  await hydrated(page);
  await expect(page.getByLabel('Role')).toHaveValue('ingest');
  await page.getByLabel('Name').fill('Warehouse monitor');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const secret = (await page.locator('#new-api-key').textContent())!.trim();
  const row = page.getByRole('row').filter({ hasText: 'Warehouse monitor' });
  await expect(row.getByRole('cell', { name: 'Ingest', exact: true })).toBeVisible();
  const headers = { Authorization: `Bearer ${secret}` };
  const event = await request.post('/api/v1/events', {
    headers,
    data: { type: 'schema_change', asset: { qualified_name: 'db.public.orders', asset_type: 'table' } },
  });
  expect(event.status()).toBe(202);
  const read = await request.get('/api/v1/destinations', { headers });
  expect(read.status()).toBe(403);
  expect((await read.json()).error.code).toBe('forbidden');
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('a viewer key is made with a plain form post', async ({ page }) => {
    await signedIn(page, admin);
    await page.goto('/settings/api-keys');
    await page.getByLabel('Name').fill('Read-only dashboard');
    await page.getByLabel('Role').selectOption('viewer');
    await page.getByRole('button', { name: 'Create API key' }).click();
    await expect(page.locator('#new-api-key')).toHaveText(/^aw_/);
    const row = page.getByRole('row').filter({ hasText: 'Read-only dashboard' });
    await expect(row.getByRole('cell', { name: 'Viewer', exact: true })).toBeVisible();
  });

  test('sign in, errors and sign out work with plain form posts', async ({ page }) => {
    await signIn(page, { email: admin.email, password: 'wrong again!!' });
    await expect(page.getByRole('alert')).toHaveText('Invalid email or password');
    await signIn(page, admin);
    await expect(page).toHaveURL(/\/alerts$/);
    await page.goto('/settings/users');
    const form = page.locator('section', { has: page.getByRole('heading', { name: 'Add a user' }) });
    await form.getByLabel('Email').fill('nojs@example.com');
    await form.getByLabel('Password', { exact: true }).fill('tiny');
    await form.getByLabel('Confirm password').fill('tiny');
    await form.getByRole('button', { name: 'Add user' }).click();
    await expect(page.locator('#new-password-error')).toHaveText('Use at least 12 characters');
    await expect(form.getByLabel('Email')).toHaveValue('nojs@example.com');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login$/);
  });
});
