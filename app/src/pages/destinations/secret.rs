//! Showing a signing secret once, with how to verify signatures.

use crate::pages::api_keys::CopyButton;
use leptos::prelude::*;

#[component]
pub fn SecretPanel(secret: String, #[prop(optional, into)] title: Option<String>) -> impl IntoView {
    let python = format!(
        "import hmac, hashlib\n\nSECRET = \"{secret}\"\n\ndef verify_signature(payload: bytes, signature: str) -> bool:\n    expected = hmac.new(SECRET.encode(), payload, hashlib.sha256).hexdigest()\n    return hmac.compare_digest(f\"sha256={{expected}}\", signature)\n\n# verify_signature(request.body, request.headers[\"X-AnomalyArmor-Signature\"])"
    );
    let node = format!(
        "const crypto = require(\"node:crypto\");\n\nconst SECRET = \"{secret}\";\n\nfunction verifySignature(rawBody, signature) {{\n  const expected = \"sha256=\" + crypto.createHmac(\"sha256\", SECRET).update(rawBody).digest(\"hex\");\n  return signature.length === expected.length &&\n    crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature));\n}}\n\n// verifySignature(rawBody, req.headers[\"x-anomalyarmor-signature\"])"
    );
    view! {
        <section class="panel notice" data-testid="signing-secret">
            <h3>{title.unwrap_or_else(|| "Signing secret".into())}</h3>
            <p>"Use it to check that requests come from Alertwire. Copy it now: it is only shown again after re-entering your password."</p>
            <div class="secret-row">
                <code class="secret" id="signing-secret">{secret.clone()}</code>
                <CopyButton text=secret/>
            </div>
            <details>
                <summary>"Verify this signature in Python"</summary>
                <pre class="code">{python}</pre>
            </details>
            <details>
                <summary>"Verify this signature in Node.js"</summary>
                <pre class="code">{node}</pre>
            </details>
            <p class="hint">"Every request also carries the Standard Webhooks headers webhook-id, webhook-timestamp and webhook-signature, which the standardwebhooks libraries verify with the same secret."</p>
        </section>
    }
}
