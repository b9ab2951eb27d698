// Neurone playground: the page. Training runs in the server (neurone serve), in Swift; this page
// sends the settings and draws the frames it receives over the WebSocket /ws. The protocol is in
// docs/PLAYGROUND.md. No libraries: plain DOM, canvas and SVG.
'use strict';

const FEATURES = ['x1', 'x2', 'x1^2', 'x2^2', 'x1x2', 'sin(x1)', 'sin(x2)'];
const FEATURE_LABELS = { 'x1': 'X₁', 'x2': 'X₂', 'x1^2': 'X₁²', 'x2^2': 'X₂²', 'x1x2': 'X₁X₂', 'sin(x1)': 'sin(X₁)', 'sin(x2)': 'sin(X₂)' };
const FEATURE_FUNCTIONS = {
  'x1': (a, b) => a, 'x2': (a, b) => b, 'x1^2': (a, b) => a * a, 'x2^2': (a, b) => b * b,
  'x1x2': (a, b) => a * b, 'sin(x1)': (a, b) => Math.sin(a), 'sin(x2)': (a, b) => Math.sin(b),
};
const DATASETS = [
  ['circles', 'Circle'], ['xor', 'Exclusive or'], ['gaussian', 'Gaussian clusters'], ['spirals', 'Spirals'],
  ['moons', 'Two moons'], ['stars', 'Stars vs circles'], ['plane', 'Plane (regression)'], ['bumps', 'Bumps (regression)'],
];
const DEFAULTS = {
  dataset: 'circles', noise: 0, trainRatio: 50, points: 500, seed: 1, features: ['x1', 'x2'], hidden: [4, 2],
  activation: 'tanh', learningRate: 0.03, batchSize: 10, optimizer: 'sgd', regularization: 'none',
  regularizationRate: 0, spec: '', added: [], removed: [],
};
const NUMBER_KEYS = ['noise', 'trainRatio', 'points', 'seed', 'learningRate', 'batchSize', 'regularizationRate'];
const MAX_HIDDEN = 6, MAX_NEURONS = 8, DOMAIN = 6;
const ORANGE = [245, 147, 34], BLUE = [8, 119, 189], WHITE = [255, 255, 255];

const $ = (id) => document.getElementById(id);
let settings = readHash();
let socket = null, setup = null, frame = null, drawn = null, playing = false;
let losses = { train: [], test: [] };
let nodeCanvases = [];   // [layer][neuron] canvases of the hidden layers; the output node last
let edgePaths = [];      // [layer][out][in] SVG paths

// ---- the state in the URL ---------------------------------------------------------------------

function readHash() {
  const s = JSON.parse(JSON.stringify(DEFAULTS));
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  for (const [key, value] of params) {
    if (!(key in DEFAULTS)) continue;
    if (NUMBER_KEYS.includes(key)) s[key] = value.trim() === '' || isNaN(Number(value)) ? value : Number(value);
    else if (key === 'features') s.features = value === '' ? [] : value.split(',');
    else if (key === 'hidden' || key === 'removed') s[key] = value === '' ? [] : value.split(',').map(Number);
    else if (key === 'added') s.added = value === '' ? [] : value.split(';').map((p) => p.split(',').map(Number));
    else s[key] = value;
  }
  return s;
}

function writeHash() {
  const p = new URLSearchParams();
  for (const key of Object.keys(DEFAULTS)) {
    const v = settings[key];
    if (key === 'added') p.set(key, v.map((q) => q.map((x) => Math.round(x * 1000) / 1000).join(',')).join(';'));
    else if (Array.isArray(v)) p.set(key, v.join(','));
    else p.set(key, String(v));
  }
  history.replaceState(null, '', '#' + p.toString());
}

// ---- the WebSocket ----------------------------------------------------------------------------

function connect() {
  socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
  socket.onopen = () => { $('connection').textContent = 'connected'; sendConfig(); };
  socket.onclose = () => { $('connection').textContent = 'disconnected: reload the page'; setPlaying(false); };
  socket.onmessage = (event) => {
    const m = JSON.parse(event.data);
    if (m.type === 'setup') onSetup(m);
    else if (m.type === 'state') setPlaying(m.playing);
    else if (m.type === 'frame') { frame = m; requestAnimationFrame(drawFrame); }
    else if (m.type === 'error') showMessage(m.message);
  };
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function sendConfig() {
  writeHash();
  showMessage('');
  losses = { train: [], test: [] };
  drawn = null;
  send({ type: 'config', settings });
  syncControls();
}

function showMessage(text) { $('message').textContent = text; }

function setPlaying(on) {
  playing = on;
  $('play').innerHTML = on ? '<svg viewBox="0 0 24 24" width="22" height="22"><path d="M6 5h4v14H6zM14 5h4v14h-4z" fill="currentColor"/></svg>'
    : '<svg viewBox="0 0 24 24" width="22" height="22"><path d="M8 5v14l11-7z" fill="currentColor"/></svg>';
  $('play').setAttribute('aria-pressed', on ? 'true' : 'false');
}

// ---- controls ---------------------------------------------------------------------------------

function syncControls() {
  for (const id of ['learningRate', 'activation', 'optimizer', 'regularization', 'regularizationRate']) {
    const select = $(id), value = String(settings[id]);
    if (![...select.options].some((o) => o.value === value)) select.add(new Option(value, value));
    select.value = value;
  }
  for (const id of ['trainRatio', 'noise', 'batchSize', 'points']) {
    $(id).value = settings[id];
    $(id + '-value').textContent = settings[id];
  }
  $('seed').textContent = settings.seed;
  $('spec').value = settings.spec;
  for (const b of document.querySelectorAll('#datasets button')) b.classList.toggle('selected', b.dataset.name === settings.dataset);
  const n = settings.hidden.length;
  $('layer-count').textContent = settings.spec ? 'a model spec' : n + (n === 1 ? ' hidden layer' : ' hidden layers');
}

function setupControls() {
  for (const id of ['learningRate', 'regularizationRate']) $(id).onchange = () => { settings[id] = Number($(id).value); sendConfig(); };
  for (const id of ['activation', 'optimizer', 'regularization']) $(id).onchange = () => { settings[id] = $(id).value; sendConfig(); };
  for (const id of ['trainRatio', 'noise', 'batchSize', 'points']) {
    $(id).oninput = () => { $(id + '-value').textContent = $(id).value; };
    $(id).onchange = () => { settings[id] = Number($(id).value); sendConfig(); };
  }
  $('play').onclick = () => send({ type: playing ? 'pause' : 'play' });
  $('step').onclick = () => send({ type: 'step' });
  $('reset').onclick = () => { losses = { train: [], test: [] }; drawn = null; send({ type: 'reset' }); };
  $('regenerate').onclick = () => { settings.seed = (Number(settings.seed) || 0) + 1; settings.added = []; settings.removed = []; sendConfig(); };
  $('add-layer').onclick = () => {
    if (settings.spec || settings.hidden.length >= MAX_HIDDEN) return;
    settings.hidden.push(2); sendConfig();
  };
  $('remove-layer').onclick = () => {
    if (settings.spec || settings.hidden.length === 0) return;
    settings.hidden.pop(); sendConfig();
  };
  $('spec-form').onsubmit = (e) => { e.preventDefault(); settings.spec = $('spec').value.trim(); sendConfig(); };
  $('spec-clear').onclick = () => { settings.spec = ''; sendConfig(); };
  $('show-test').onchange = drawPoints;
  const pointsLayer = $('points-layer');
  pointsLayer.onclick = (e) => clickPoint(e, pointsLayer);
  for (const [name, title] of DATASETS) {
    const b = document.createElement('button');
    b.id = 'dataset-' + name; b.dataset.name = name; b.title = title;
    const c = document.createElement('canvas'); c.width = 21; c.height = 21;
    drawDatasetIcon(c, name);
    b.appendChild(c);
    b.onclick = () => { settings.dataset = name; settings.added = []; settings.removed = []; sendConfig(); };
    $('datasets').appendChild(b);
  }
  window.addEventListener('resize', () => { if (setup) { buildNetwork(); if (drawn) drawNetworkValues(drawn); } });
}

// A point added by a click (of the chosen class), or the nearest one removed by a shift-click.
function clickPoint(e, canvas) {
  if (!setup) return;
  const r = canvas.getBoundingClientRect();
  const x1 = ((e.clientX - r.left) / r.width * 2 - 1) * DOMAIN, x2 = (1 - (e.clientY - r.top) / r.height * 2) * DOMAIN;
  if (e.shiftKey) {
    let best = null, bestD = 0.4 * 0.4;
    for (const p of setup.train.concat(setup.test)) {
      const d = (p[0] - x1) ** 2 + (p[1] - x2) ** 2;
      if (d < bestD) { best = p; bestD = d; }
    }
    if (!best) return;
    if (best[3] >= 0) settings.removed.push(best[3]);
    else settings.added = settings.added.filter((q) => q[0] !== best[0] || q[1] !== best[1]);
  } else {
    const cls = Number(document.querySelector('input[name=add-class]:checked').value);
    const label = setup.problem === 'regression' ? (cls ? 1 : -1) : cls;
    settings.added.push([Math.round(x1 * 1000) / 1000, Math.round(x2 * 1000) / 1000, label]);
  }
  writeHash();
  send({ type: 'points', added: settings.added, removed: settings.removed });
}

// ---- drawing ----------------------------------------------------------------------------------

function colour(v) {
  const t = Math.max(-1, Math.min(1, v)), to = t < 0 ? ORANGE : BLUE, a = Math.abs(t);
  return [0, 1, 2].map((i) => Math.round(WHITE[i] + (to[i] - WHITE[i]) * a));
}

function decode(b64) {
  const s = atob(b64), out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// Paints a square map of values in [−1, 1] onto a canvas of its side.
function paintMap(canvas, side, valueAt) {
  if (canvas.width !== side) { canvas.width = side; canvas.height = side; }
  const ctx = canvas.getContext('2d'), img = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const c = colour(valueAt(i));
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function paintBytes(canvas, side, bytes) { paintMap(canvas, side, (i) => bytes[i] / 127.5 - 1); }

function paintFeature(canvas, name) {
  const side = 32, f = FEATURE_FUNCTIONS[name], values = [];
  let scale = 0;
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const v = f(((c + 0.5) / side * 2 - 1) * DOMAIN, (1 - (r + 0.5) / side * 2) * DOMAIN);
      values.push(v); scale = Math.max(scale, Math.abs(v));
    }
  }
  paintMap(canvas, side, (i) => values[i] / (scale || 1));
}

function drawDatasetIcon(canvas, name) {
  const moon = [];
  for (let i = 0; i <= 20; i++) {
    const t = Math.PI * i / 20;
    moon.push([3 * (Math.cos(t) - 0.5), 3 * (Math.sin(t) - 0.25), 1], [3 * (0.5 - Math.cos(t)), 3 * (0.25 - Math.sin(t)), -1]);
  }
  const field = {
    circles: (x, y) => (Math.hypot(x, y) < 3 ? 1 : -1),
    xor: (x, y) => (x * y > 0 ? 1 : -1),
    gaussian: (x, y) => Math.tanh(((x + 2) ** 2 + (y + 2) ** 2 - (x - 2) ** 2 - (y - 2) ** 2) / 8),
    spirals: (x, y) => {
      const r = Math.hypot(x, y), t = Math.atan2(x, y) - r / 5 * 3.5 * Math.PI;
      return Math.cos(t);
    },
    moons: (x, y) => { let best = 1e9, label = 0; for (const p of moon) { const d = (p[0] - x) ** 2 + (p[1] - y) ** 2; if (d < best) { best = d; label = p[2]; } } return label; },
    stars: (x, y) => (Math.abs(x) < 2.5 && Math.abs(y) < 2.5 ? 1 : -1),
    plane: (x, y) => (x + y) / 10,
    bumps: (x, y) => Math.exp(-((x - 2) ** 2 + (y - 2) ** 2) / 4) - Math.exp(-((x + 2) ** 2 + (y + 2) ** 2) / 4),
  }[name];
  const side = canvas.width;
  paintMap(canvas, side, (i) => field(((i % side + 0.5) / side * 2 - 1) * DOMAIN, (1 - (Math.floor(i / side) + 0.5) / side * 2) * DOMAIN));
}

function toPixel(v, size) { return (v / DOMAIN + 1) / 2 * size; }

function drawPoints() {
  const canvas = $('points-layer'), ctx = canvas.getContext('2d'), size = canvas.width;
  ctx.clearRect(0, 0, size, size);
  if (!setup) return;
  const sets = [[setup.train, '#fff']];
  if ($('show-test').checked) sets.push([setup.test, '#000']);
  for (const [points, stroke] of sets) {
    for (const p of points) {
      const c = setup.problem === 'regression' ? colour(p[2]) : (p[2] ? BLUE : ORANGE);
      ctx.beginPath();
      ctx.arc(toPixel(p[0], size), size - toPixel(p[1], size), 3.2, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
      ctx.fill();
      ctx.lineWidth = 1; ctx.strokeStyle = stroke; ctx.stroke();
    }
  }
}

function onSetup(m) {
  const sameNetwork = setup && drawn && JSON.stringify(setup.widths) === JSON.stringify(m.widths) && setup.settings.spec === m.settings.spec;
  setup = m;
  settings = Object.assign(JSON.parse(JSON.stringify(DEFAULTS)), m.settings);
  writeHash();
  syncControls();
  if (!sameNetwork) buildNetwork();
  drawPoints();
}

// The network drawing: a column of feature nodes, one per hidden layer, and the output node.
function buildNetwork() {
  const box = $('network'), nodes = $('nodes'), svg = $('edges');
  nodes.innerHTML = ''; svg.innerHTML = '';
  nodeCanvases = []; edgePaths = [];
  const hidden = setup.widths.slice(1, -1), columns = hidden.length + 2;
  const width = box.clientWidth || 600, height = box.clientHeight || 420;
  const tallest = Math.max(FEATURES.length, ...hidden);
  const size = Math.max(8, Math.min(36, Math.floor((height - 50) / tallest) - 6));
  const gap = Math.min(10, Math.max(2, Math.floor((height - 50) / tallest) - size));
  const colX = (i) => 40 + i * (width - 40 - size - 60) / (columns - 1);
  const rowY = (j) => 40 + j * (size + gap);
  const positions = [];   // [column][node] = {x, y} of the node's centre, or null for a feature not used

  // the features: all of them, the selected ones in colour; a click toggles one
  const used = setup.inputs;
  positions.push(FEATURES.map((name, j) => {
    const div = nodeDiv(colX(0), rowY(j), size, 'feature' + (used.includes(name) ? '' : ' off'));
    div.id = 'feature-' + name; div.title = FEATURE_LABELS[name] + (settings.spec ? '' : ' (click to use or drop it)');
    const c = div.firstChild; paintFeature(c, name);
    div.onclick = () => {
      const next = used.includes(name) ? used.filter((f) => f !== name) : FEATURES.filter((f) => f === name || used.includes(f));
      if (next.length === 0) return;
      settings.features = next; sendConfig();
    };
    const label = document.createElement('div');
    label.className = 'node-label'; label.textContent = FEATURE_LABELS[name];
    label.style.left = (colX(0) - 36) + 'px'; label.style.top = (rowY(j) + size / 2 - 8) + 'px';
    nodes.appendChild(label);
    return used.includes(name) ? { x: colX(0) + size, y: rowY(j) + size / 2, left: colX(0) } : null;
  }).filter((p) => p !== null));

  hidden.forEach((n, l) => {
    const x = colX(l + 1), list = [], canvases = [];
    for (let j = 0; j < n; j++) {
      const div = nodeDiv(x, rowY(j), size, 'neuron');
      div.dataset.layer = l; div.dataset.neuron = j;
      div.onmousemove = (e) => showTip(e, () => drawn ? `bias ${fmt(drawn.layers[l].biases[j])}` : '');
      div.onmouseleave = hideTip;
      canvases.push(div.firstChild);
      list.push({ x: x + size, y: rowY(j) + size / 2, left: x });
    }
    nodeCanvases.push(canvases);
    positions.push(list);
    const caption = document.createElement('div');
    caption.className = 'layer-caption'; caption.textContent = n + (n === 1 ? ' neuron' : ' neurons');
    caption.style.left = (x + size / 2 - 40) + 'px'; caption.style.top = '2px';
    nodes.appendChild(caption);
    if (!settings.spec) {
      const buttons = document.createElement('div');
      buttons.className = 'layer-buttons';
      buttons.style.left = (x + size / 2 - 22) + 'px'; buttons.style.top = '18px';
      const plus = document.createElement('button'), minus = document.createElement('button');
      plus.textContent = '+'; minus.innerHTML = '&minus;';
      plus.id = `add-neuron-${l}`; minus.id = `remove-neuron-${l}`;
      plus.onclick = () => { if (settings.hidden[l] < MAX_NEURONS) { settings.hidden[l]++; sendConfig(); } };
      minus.onclick = () => { if (settings.hidden[l] > 1) { settings.hidden[l]--; sendConfig(); } };
      buttons.append(plus, minus);
      nodes.appendChild(buttons);
    }
  });

  // the output node
  const outX = colX(columns - 1), outY = rowY(0);
  const out = nodeDiv(outX, outY, size, 'neuron output');
  out.onmousemove = (e) => showTip(e, () => drawn ? `bias ${fmt(drawn.layers[drawn.layers.length - 1].biases[0])}` : '');
  out.onmouseleave = hideTip;
  nodeCanvases.push([out.firstChild]);
  positions.push([{ x: outX + size, y: outY + size / 2, left: outX }]);

  // the edges, layer by layer (too many to draw for a wide spec: then none)
  let count = 0;
  for (let l = 0; l + 1 < positions.length; l++) count += positions[l].length * positions[l + 1].length;
  if (count > 3000) return;
  for (let l = 0; l + 1 < positions.length; l++) {
    const layer = [];
    positions[l + 1].forEach((to, o) => {
      const row = [];
      positions[l].forEach((from, i) => {
        const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
        const mid = (from.x + to.left) / 2;
        path.setAttribute('d', `M${from.x},${from.y} C${mid},${from.y} ${mid},${to.y} ${to.left},${to.y}`);
        path.setAttribute('stroke', '#ccc'); path.setAttribute('stroke-width', '1'); path.setAttribute('stroke-opacity', '0.8');
        path.onmousemove = (e) => showTip(e, () => drawn ? `weight ${fmt(drawn.layers[l].weights[o][i])}` : '');
        path.onmouseleave = hideTip;
        svg.appendChild(path);
        row.push(path);
      });
      layer.push(row);
    });
    edgePaths.push(layer);
  }
}

function nodeDiv(x, y, size, cls) {
  const div = document.createElement('div');
  div.className = 'node ' + cls;
  Object.assign(div.style, { left: x + 'px', top: y + 'px', width: size + 'px', height: size + 'px' });
  div.appendChild(document.createElement('canvas'));
  $('nodes').appendChild(div);
  return div;
}

function fmt(v) { return Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0) ? v.toExponential(2) : v.toFixed(3); }

function showTip(e, text) {
  const tip = $('tooltip'), box = $('network').getBoundingClientRect();
  const t = text();
  if (!t) return;
  tip.textContent = t; tip.style.display = 'block';
  tip.style.left = (e.clientX - box.left + 12) + 'px'; tip.style.top = (e.clientY - box.top + 12) + 'px';
}

function hideTip() { $('tooltip').style.display = 'none'; }

function drawNetworkValues(f) {
  f.layers.forEach((layer, l) => {
    if (layer.maps && nodeCanvases[l]) layer.maps.forEach((m, j) => { if (nodeCanvases[l][j]) paintBytes(nodeCanvases[l][j], setup.neuronGrid, decode(m)); });
    const paths = edgePaths[l];
    if (!paths) return;
    layer.weights.forEach((row, o) => row.forEach((w, i) => {
      const p = paths[o] && paths[o][i];
      if (!p) return;
      const c = colour(Math.max(-1, Math.min(1, w)));
      p.setAttribute('stroke', `rgb(${c[0]},${c[1]},${c[2]})`);
      p.setAttribute('stroke-width', String(Math.min(8, 0.5 + 2 * Math.abs(w))));
    }));
  });
}

function drawLossChart() {
  const canvas = $('loss-chart'), ctx = canvas.getContext('2d'), w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const n = losses.train.length;
  if (n < 2) return;
  const all = losses.train.concat(losses.test).filter((v) => v !== null && isFinite(v));
  const top = Math.max(...all, 1e-9);
  for (const [series, style] of [[losses.train, '#999'], [losses.test, '#000']]) {
    ctx.beginPath(); ctx.strokeStyle = style; ctx.lineWidth = 1.5;
    series.forEach((v, i) => {
      if (v === null || !isFinite(v)) return;
      const x = i / (n - 1) * (w - 2) + 1, y = h - 2 - v / top * (h - 4);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }
}

function drawFrame() {
  const f = frame;
  if (!f || f === drawn || !setup) return;
  drawn = f;
  $('epoch').textContent = String(f.epoch).padStart(6, '0');
  $('test-loss').textContent = f.testLoss === null ? '–' : f.testLoss.toFixed(3);
  $('train-loss').textContent = f.trainLoss === null ? '–' : f.trainLoss.toFixed(3);
  losses.train[f.epoch] = f.trainLoss; losses.test[f.epoch] = f.testLoss;
  losses.train.length = losses.test.length = f.epoch + 1;
  const out = decode(f.output);
  paintBytes($('boundary'), setup.grid, out);
  const outputNode = nodeCanvases[nodeCanvases.length - 1];
  if (outputNode) paintMap(outputNode[0], setup.grid / 2, (i) => out[((Math.floor(i / (setup.grid / 2)) * 2) * setup.grid) + (i % (setup.grid / 2)) * 2] / 127.5 - 1);
  drawNetworkValues(f);
  drawLossChart();
  send({ type: 'ack', epoch: f.epoch });
}

window.addEventListener('error', (e) => { (window.playgroundErrors = window.playgroundErrors || []).push(String(e.message)); });
setupControls();
syncControls();
connect();
