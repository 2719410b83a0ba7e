import type { HttpApp } from '@calmhub/platform';
import '../shared/fastify-schema.js';

/**
 * The sandbox's stand-in for the Cloud ALM UI: projects, features with their user stories, and
 * the lifecycle buttons. Static HTML; the script talks to the admin API with the admin token
 * the user pastes once (kept in localStorage, never in the page).
 */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cloud ALM sandbox</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; color: #1d2d3e; background: #f5f6f7; }
  header { background: #354a5f; color: #fff; padding: 12px 20px; display: flex; gap: 16px; align-items: center; }
  header h1 { font-size: 18px; margin: 0; flex: 1; }
  header input { width: 360px; padding: 4px 6px; }
  main { padding: 16px 20px; }
  section.project { background: #fff; border-radius: 8px; padding: 12px 16px; margin-bottom: 16px; box-shadow: 0 1px 2px #0002; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e5e5e5; vertical-align: top; font-size: 14px; }
  .status { display: inline-block; padding: 2px 8px; border-radius: 10px; background: #e8f0fb; font-size: 12px; white-space: nowrap; }
  .stories { margin: 0; padding-left: 16px; color: #556b82; font-size: 13px; }
  button { margin: 0 4px 4px 0; padding: 4px 10px; border: 1px solid #0a6ed1; background: #fff; color: #0a6ed1; border-radius: 4px; cursor: pointer; }
  button:hover { background: #0a6ed1; color: #fff; }
  #message { min-height: 20px; color: #bb0000; }
  #events { font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; background: #fff; padding: 8px; border-radius: 8px; max-height: 240px; overflow: auto; }
</style>
</head>
<body>
<header>
  <h1>SAP Cloud ALM sandbox</h1>
  <label>Admin token <input id="token" type="password" placeholder="contents of <data>/sandbox/admin-token"></label>
  <button id="save">Use token</button>
</header>
<main>
  <div id="message"></div>
  <div id="projects">Paste the admin token to load projects.</div>
  <h3>Latest change events</h3>
  <div id="events"></div>
</main>
<script>
const tokenInput = document.getElementById('token');
const message = document.getElementById('message');
tokenInput.value = localStorage.getItem('calmSandboxAdminToken') || '';
document.getElementById('save').onclick = () => { localStorage.setItem('calmSandboxAdminToken', tokenInput.value.trim()); load(); };

async function api(method, path) {
  const response = await fetch('/admin' + path, { method, headers: { authorization: 'Bearer ' + tokenInput.value.trim() } });
  const body = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error(body && body.error ? body.error.message : response.statusText);
  return body;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'onclick') node.onclick = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

async function act(uuid, action) {
  message.textContent = '';
  try { await api('POST', '/features/' + uuid + '/actions/' + action); await load(); }
  catch (error) { message.textContent = error.message; }
}

async function load() {
  message.textContent = '';
  if (!tokenInput.value.trim()) return;
  try {
    const { projects } = await api('GET', '/overview');
    const root = document.getElementById('projects');
    root.replaceChildren();
    for (const project of projects) {
      const rows = project.features.map((feature) => el('tr', {},
        el('td', {}, feature.displayId),
        el('td', {}, el('strong', {}, feature.title),
          el('ul', { class: 'stories' }, ...feature.tasks.map((task) => el('li', {}, task.type + ' ' + task.title + ' (' + task.status + ')')))),
        el('td', {}, el('span', { class: 'status', 'data-status': feature.statusCode }, feature.statusName)),
        el('td', {}, ...feature.actions.map((action) => el('button', { 'data-action': action.id, onclick: () => act(feature.uuid, action.id) }, action.label)))));
      root.append(el('section', { class: 'project' },
        el('h2', {}, project.name + ' ', el('small', {}, '(' + project.featureCount + ' features, status ' + project.status + ')')),
        el('table', {}, el('tr', {}, el('th', {}, 'ID'), el('th', {}, 'Feature / user stories'), el('th', {}, 'Status'), el('th', {}, 'Actions')), ...rows)));
    }
    const { events } = await api('GET', '/events?latest=true&limit=20');
    document.getElementById('events').textContent = events.slice().reverse()
      .map((event) => event.createdAt + '  ' + event.eventType + '  ' + event.resourceId + (event.resource.statusCode ? '  -> ' + event.resource.statusCode : '')).join('\\n');
  } catch (error) {
    message.textContent = error.message;
  }
}
load();
</script>
</body>
</html>`;

export function registerWebPage(app: HttpApp): void {
  app.get('/ui', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(PAGE),
  );
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/ui'));
}
