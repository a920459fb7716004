"""A self-contained API reference page rendered from the served OpenAPI document (no CDN: offline studios)."""

from __future__ import annotations

import html

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from .state import ApiState

# The page is data, not code: long lines of HTML/JS are left as they are.
# ruff: noqa: E501

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}}
header{{background:#1d2330;color:#fff;padding:20px 32px}} main{{max-width:980px;margin:0 auto;padding:24px}}
.op{{background:#fff;border:1px solid #dde1e7;border-radius:8px;margin:14px 0;padding:14px 18px}}
.m{{display:inline-block;min-width:56px;font-weight:700;font-family:monospace}} .GET{{color:#1769aa}} .POST{{color:#2e7d32}}
code,pre{{font-family:ui-monospace,monospace;font-size:13px}} pre{{background:#f0f2f5;padding:10px;overflow:auto}}
table{{border-collapse:collapse;width:100%}} td,th{{border-bottom:1px solid #eceef1;text-align:left;padding:4px 6px;vertical-align:top}}
</style></head><body><header><h1>{title}</h1><p>{description}</p>
<p>Machine-readable schema: <a style="color:#9cf" href="/schema/openapi.json">/schema/openapi.json</a></p></header>
<main id="ops">Loading…</main>
<script>
fetch('/schema/openapi.json').then(r => r.json()).then(spec => {{
  const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}})[c]);
  const defs = (spec.components || {{}}).schemas || {{}};
  const ref = s => s && s.$ref ? defs[s.$ref.split('/').pop()] : s;
  const props = s => {{ s = ref(s) || {{}}; const req = new Set(s.required || []);
    return Object.entries(s.properties || {{}}).map(([k, v]) => {{ const d = ref(v.oneOf ? v.oneOf[0] : v) || v;
      const e = d.enum ? d.enum.join(' | ') : (d.type || '');
      return `<tr><td><code>${{esc(k)}}</code>${{req.has(k) ? ' *' : ''}}</td><td>${{esc(e)}}</td><td>${{esc(v.description || d.description)}}</td></tr>`; }}).join(''); }};
  let out = '';
  for (const [path, item] of Object.entries(spec.paths)) for (const [m, op] of Object.entries(item)) {{
    if (typeof op !== 'object' || !op.responses) continue;
    const body = op.requestBody ? op.requestBody.content['application/json'].schema : null;
    const params = (op.parameters || []).map(p => `<tr><td><code>${{esc(p.name)}}</code> (${{esc(p.in)}})</td><td>${{esc((p.schema||{{}}).type)}}</td><td>${{esc(p.description)}}</td></tr>`).join('');
    out += `<div class="op"><span class="m ${{m.toUpperCase()}}">${{m.toUpperCase()}}</span> <code>${{esc(path)}}</code> — ${{esc(op.summary)}}
      <p>${{esc(op.description)}}</p>${{params ? `<table>${{params}}</table>` : ''}}${{body ? `<h4>Body</h4><table>${{props(body)}}</table>` : ''}}
      <p>Responses: ${{Object.keys(op.responses).map(esc).join(', ')}}</p></div>`;
  }}
  document.getElementById('ops').innerHTML = out;
}});
</script></body></html>"""


class DocsController(Controller):
    include_in_schema = False

    @get("/docs", sync_to_thread=False)
    def docs(self, api: NamedDependency[ApiState]) -> Response[str]:
        brand = api.settings.brand
        page = _PAGE.format(title=html.escape(f"{brand.product_name} API"), description=html.escape(brand.description))
        return Response(page, media_type="text/html; charset=utf-8")
