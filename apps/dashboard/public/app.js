// The dashboard page: one Server-Sent Events stream of the cluster's state, drawn without a
// framework so that the page needs no build step. Actions go back as small JSON POSTs.

const kinds = ['append', 'heartbeat', 'vote', 'snapshot', 'read', 'forward'];
const svgNamespace = 'http://www.w3.org/2000/svg';

const $ = (selector) => document.querySelector(selector);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(svgNamespace, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

function show(text) {
  $('#notice').textContent = text;
}

async function act(action, target) {
  show(`${action}${target ? ' ' + target : ''}…`);
  try {
    const response = await fetch(`/api/actions/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(target ? { target } : {}),
    });
    const answer = await response.json();
    show(answer.ok ? answer.message : `${action} failed: ${answer.error}`);
  } catch (error) {
    show(`${action} failed: ${error.message}`);
  }
}

document.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (button === null) return;
  void act(button.dataset.action, button.dataset.target);
});

const dash = (value) => (value === null || value === undefined ? '–' : String(value));

function serverCard(server, state) {
  const fields = [
    ['term', server.term],
    ['leader', server.leaderId],
    ['last', server.lastIndex],
    ['commit', server.commitIndex],
    ['applied', server.appliedIndex],
    ['snapshot', server.snapshotIndex],
    ['membership', server.membership],
    ['lag', server.role === 'leader' ? 0 : server.lag],
    ['health', server.health],
  ];
  const list = element('dl');
  for (const [name, value] of fields)
    list.append(element('dt', {}, name), element('dd', {}, dash(value)));
  const buttons = element('div', { class: 'server-actions' });
  const offer = (action, label) => {
    if (!state.actions.includes(action)) return;
    buttons.append(
      element('button', { type: 'button', 'data-action': action, 'data-target': server.id }, label),
    );
  };
  if (server.up) offer('stop', 'Stop');
  else offer('start', 'Start');
  if (server.up && server.health !== 'partitioned') offer('partition', 'Partition');
  if (server.up && server.role !== 'leader') offer('transfer', 'Make leader');
  if (server.up) offer('snapshot', 'Snapshot');
  if (state.servers.length > 1) offer('remove', 'Remove');
  return element(
    'article',
    {
      class: `server role-${server.role} health-${server.health}`,
      'data-node-id': server.id,
      'data-role': server.role,
    },
    element('h3', {}, server.id, ' ', element('span', { class: 'badge' }, server.role)),
    element('p', { class: 'address' }, `redis-cli -p ${server.client.split(':').pop()}`),
    list,
    buttons,
  );
}

function drawServers(state) {
  $('#servers').replaceChildren(...state.servers.map((server) => serverCard(server, state)));
}

function drawFlow(state) {
  const radius = 110;
  const position = new Map(
    state.servers.map((server, index) => {
      const angle = (2 * Math.PI * index) / state.servers.length - Math.PI / 2;
      return [server.id, { x: radius * Math.cos(angle), y: radius * Math.sin(angle), server }];
    }),
  );
  // Arrows are aggregated per direction: one arrow per pair, its width the total rate, its colour
  // the kind that dominates, its label the rates by kind — readable at thousands per second.
  const pairs = new Map();
  for (const edge of state.flow) {
    const key = `${edge.from}>${edge.to}`;
    const pair = pairs.get(key) ?? { from: edge.from, to: edge.to, total: 0, byKind: {} };
    pair.total += edge.perSecond;
    pair.byKind[edge.kind] = (pair.byKind[edge.kind] ?? 0) + edge.perSecond;
    pairs.set(key, pair);
  }
  const arrows = [];
  for (const pair of pairs.values()) {
    const from = position.get(pair.from);
    const to = position.get(pair.to);
    if (from === undefined || to === undefined) continue;
    const dominant = kinds.reduce((best, kind) =>
      (pair.byKind[kind] ?? 0) > (pair.byKind[best] ?? 0) ? kind : best,
    );
    // Offset each direction sideways so that a→b and b→a do not overlap.
    const dx = to.x - from.x;
    const dy = to.y - from.y;
    const length = Math.hypot(dx, dy) || 1;
    const nx = (-dy / length) * 6;
    const ny = (dx / length) * 6;
    const shorten = 26 / length;
    const x1 = from.x + dx * shorten + nx;
    const y1 = from.y + dy * shorten + ny;
    const x2 = to.x - dx * shorten + nx;
    const y2 = to.y - dy * shorten + ny;
    const width = Math.min(8, 1 + Math.log10(1 + pair.total) * 2);
    const label = kinds
      .filter((kind) => (pair.byKind[kind] ?? 0) > 0)
      .map((kind) => `${kind} ${Math.round(pair.byKind[kind])}/s`)
      .join(', ');
    arrows.push(
      svg(
        'line',
        {
          x1,
          y1,
          x2,
          y2,
          class: `arrow kind-${dominant}`,
          'stroke-width': width,
          'marker-end': `url(#head-${dominant})`,
        },
        svg('title', {}, `${pair.from} → ${pair.to}: ${label}`),
      ),
    );
  }
  const markers = svg(
    'defs',
    {},
    ...kinds.map((kind) =>
      svg(
        'marker',
        {
          id: `head-${kind}`,
          viewBox: '0 0 10 10',
          refX: 8,
          refY: 5,
          markerWidth: 4,
          markerHeight: 4,
          orient: 'auto-start-reverse',
        },
        svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: `head kind-${kind}` }),
      ),
    ),
  );
  const nodes = [...position.values()].map(({ x, y, server }) =>
    svg(
      'g',
      { class: `flow-node role-${server.role}`, transform: `translate(${x} ${y})` },
      svg('circle', { r: 22 }),
      svg('text', { 'text-anchor': 'middle', dy: '0.35em' }, server.id),
    ),
  );
  $('#flow').replaceChildren(markers, ...arrows, ...nodes);
}

function drawChart(target, points, series) {
  const values = points.flatMap((point) =>
    series.map(({ key }) => point[key]).filter((value) => value !== null),
  );
  const top = Math.max(1, ...values);
  const width = 300;
  const height = 100;
  const step = points.length > 1 ? width / (points.length - 1) : width;
  const lines = series.map(({ key, className }) => {
    let path = '';
    let pen = 'M';
    points.forEach((point, index) => {
      const value = point[key];
      if (value === null) {
        pen = 'M';
        return;
      }
      path += `${pen}${(index * step).toFixed(1)},${(height - (value / top) * (height - 4)).toFixed(1)} `;
      pen = 'L';
    });
    return svg('path', {
      d: path.trim() || 'M0,100',
      class: `series ${className}`,
      'vector-effect': 'non-scaling-stroke',
    });
  });
  target.replaceChildren(
    svg('text', { x: 2, y: 10, class: 'axis' }, `max ${Math.round(top)}`),
    ...lines,
  );
}

function drawCharts(state) {
  drawChart($('#throughput'), state.chart, [
    { key: 'writesPerSecond', className: 'series-writes' },
    { key: 'commitsPerSecond', className: 'series-commits' },
  ]);
  drawChart($('#latency'), state.chart, [
    { key: 'p50Ms', className: 'series-p50' },
    { key: 'p99Ms', className: 'series-p99' },
  ]);
  const last = state.chart.at(-1);
  $('#throughput-now').textContent =
    last === undefined
      ? ''
      : `now ${dash(last.writesPerSecond && Math.round(last.writesPerSecond))} writes/s, ${dash(last.commitsPerSecond && Math.round(last.commitsPerSecond))} commits/s`;
  $('#latency-now').textContent =
    last === undefined || last.p50Ms === null
      ? ''
      : `now p50 ${last.p50Ms.toFixed(1)} ms, p99 ${last.p99Ms.toFixed(1)} ms`;
}

function drawTimeline(state) {
  const items = [...state.timeline].reverse().map((event) => {
    const time = new Date(event.atMs).toISOString().slice(11, 23);
    const summary = element(
      'summary',
      {},
      element('time', {}, time),
      ' ',
      element('span', { class: `event-kind kind-${event.kind}` }, event.kind),
      ' ',
      event.text,
    );
    const rows =
      event.rows.length === 0
        ? element('p', {}, 'no server rows in this interval')
        : element('pre', {}, event.rows.join('\n'));
    return element('li', {}, element('details', {}, summary, rows));
  });
  $('#timeline').replaceChildren(...items);
}

function draw(state) {
  const leader =
    state.leaderId === null ? 'no leader' : `leader ${state.leaderId}, term ${state.term}`;
  const up = state.servers.filter((server) => server.up).length;
  $('#summary').textContent = `${leader} · ${up} of ${state.servers.length} servers up`;
  drawServers(state);
  drawFlow(state);
  drawCharts(state);
  drawTimeline(state);
}

const events = new EventSource('/events');
events.addEventListener('state', (message) => draw(JSON.parse(message.data)));
events.addEventListener('error', () => {
  $('#summary').textContent = 'dashboard connection lost; retrying…';
});
