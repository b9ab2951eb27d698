// The back-propagation page: one gradient step of a small two-layer network, stage by stage —
// the forward values, the loss, every chain-rule factor on its edge, each gradient, each updated
// weight. The numbers come from the server (POST /api/backprop: Neurone's autograd in float64 and
// the chain rule written out, as `neurone explain backprop` prints them).
'use strict';

const COURSE = {
  inputs: [0.05, 0.10], targets: [0.01, 0.99], hiddenWeights: [0.15, 0.20, 0.25, 0.30],
  outputWeights: [0.40, 0.45, 0.50, 0.55], hiddenBias: [0.35], outputBias: [0.60], activation: 'sigmoid', learningRate: 0.5,
};
const STAGES = ['network', 'forward', 'loss', 'output layer', 'hidden layer', 'update'];
const $ = (id) => document.getElementById(id);
let example = JSON.parse(JSON.stringify(COURSE));
let result = null, stage = 0, step = 1, selected = null;

function fmt(v) { return Math.abs(v) >= 1000 || (Math.abs(v) < 1e-4 && v !== 0) ? v.toExponential(3) : v.toFixed(4); }

async function explain(ex) {
  const response = await fetch('api/backprop', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ex) });
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || response.statusText);
  return body;
}

async function start(ex, atStage) {
  try {
    const r = await explain(ex);
    example = ex; result = r; stage = atStage; selected = null;
    $('bp-message').textContent = '';
    draw();
  } catch (e) {
    $('bp-message').textContent = String(e.message);
  }
}

// ---- the editor -------------------------------------------------------------------------------

function sizes() { return [Number($('n0').value), Number($('n1').value), Number($('n2').value)]; }

function buildFields(ex) {
  const [n0, n1, n2] = [ex.inputs.length, ex.hiddenWeights.length / ex.inputs.length, ex.targets.length];
  const fields = $('fields');
  fields.innerHTML = '';
  const row = (label, key, values) => {
    const l = document.createElement('span'); l.textContent = label; fields.appendChild(l);
    const box = document.createElement('span');
    values.forEach((v, i) => {
      const input = document.createElement('input');
      input.type = 'number'; input.step = 'any'; input.value = v; input.dataset.key = key; input.dataset.index = i;
      input.id = `field-${key}-${i}`;
      box.appendChild(input);
    });
    fields.appendChild(box);
  };
  row('x (inputs)', 'inputs', ex.inputs);
  row('y (targets)', 'targets', ex.targets);
  row(`hidden weights (${n1}×${n0})`, 'hiddenWeights', ex.hiddenWeights);
  row('hidden bias', 'hiddenBias', ex.hiddenBias);
  row(`output weights (${n2}×${n1})`, 'outputWeights', ex.outputWeights);
  row('output bias', 'outputBias', ex.outputBias);
  $('n0').value = n0; $('n1').value = n1; $('n2').value = n2;
  $('bp-activation').value = ex.activation; $('bp-lr').value = ex.learningRate;
  $('shared-bias').checked = ex.hiddenBias.length === 1 && ex.outputBias.length === 1;
  $('freeze-bias').checked = !!ex.freezeBias;
}

function readFields() {
  const ex = { inputs: [], targets: [], hiddenWeights: [], outputWeights: [], hiddenBias: [], outputBias: [] };
  for (const input of document.querySelectorAll('#fields input')) ex[input.dataset.key][Number(input.dataset.index)] = Number(input.value);
  ex.activation = $('bp-activation').value;
  ex.learningRate = Number($('bp-lr').value);
  ex.freezeBias = $('freeze-bias').checked;
  return ex;
}

// New sizes: keep the values that still fit, fill the rest with small distinct numbers.
function resized() {
  const [n0, n1, n2] = sizes(), old = readFields(), shared = $('shared-bias').checked;
  const oldN0 = old.inputs.length, oldN1 = old.hiddenWeights.length / oldN0;
  const fill = (k) => Math.round((0.1 + 0.05 * k) * 100) / 100;
  const pick = (list, i, k) => (i < list.length ? list[i] : fill(k));
  const ex = {
    inputs: Array.from({ length: n0 }, (_, i) => pick(old.inputs, i, i)),
    targets: Array.from({ length: n2 }, (_, i) => pick(old.targets, i, i + 3)),
    hiddenWeights: Array.from({ length: n1 * n0 }, (_, k) => {
      const j = Math.floor(k / n0), i = k % n0;
      return j < oldN1 && i < oldN0 ? old.hiddenWeights[j * oldN0 + i] : fill(k);
    }),
    outputWeights: Array.from({ length: n2 * n1 }, (_, k) => {
      const o = Math.floor(k / n1), j = k % n1;
      return o < old.targets.length && j < oldN1 ? old.outputWeights[o * oldN1 + j] : fill(k + 2);
    }),
    hiddenBias: shared ? [old.hiddenBias[0]] : Array.from({ length: n1 }, (_, j) => pick(old.hiddenBias, j, j)),
    outputBias: shared ? [old.outputBias[0]] : Array.from({ length: n2 }, (_, j) => pick(old.outputBias, j, j + 1)),
    activation: old.activation, learningRate: old.learningRate, freezeBias: old.freezeBias,
  };
  buildFields(ex);
}

function setupEditor() {
  for (const id of ['n0', 'n1', 'n2']) {
    for (let n = 1; n <= 4; n++) $(id).add(new Option(String(n), String(n)));
    $(id).onchange = resized;
  }
  $('shared-bias').onchange = resized;
  $('freeze-bias').onchange = () => { step = 1; start(readFields(), 0); };
  $('editor').onsubmit = (e) => { e.preventDefault(); step = 1; start(readFields(), 0); };
  $('course-values').onclick = () => { buildFields(COURSE); step = 1; start(JSON.parse(JSON.stringify(COURSE)), 0); };
  $('restart').onclick = () => { step = 1; start(readFields(), 0); };
  $('next-stage').onclick = () => {
    if (!result) return;
    if (stage < STAGES.length - 1) { stage++; draw(); return; }
    step++;
    start(result.next, 1);
  };
  $('prev-stage').onclick = () => { if (stage > 0) { stage--; draw(); } };
  document.querySelectorAll('#stages li').forEach((li) => { li.onclick = () => { if (result) { stage = Number(li.dataset.stage); draw(); } }; });
}

// ---- the graph --------------------------------------------------------------------------------

function svg(tag, attrs, text) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  $('graph').appendChild(el);
  return el;
}

function draw() {
  const r = result, [n0, n1, n2] = r.sizes, g = $('graph');
  g.innerHTML = '';
  $('step-count').textContent = step;
  document.querySelectorAll('#stages li').forEach((li) => {
    const s = Number(li.dataset.stage);
    li.className = s === stage ? 'current' : s < stage ? 'done' : '';
  });
  const value = Object.fromEntries(r.forward.map((q) => [q.name, q.value]));
  const factor = {};
  for (const grad of r.gradients) for (const f of grad.factors) factor[f.name] = f.value;
  const gradient = Object.fromEntries(r.gradients.map((q) => [q.parameter, q]));
  const update = Object.fromEntries(r.updates.map((q) => [q.name, q.value]));
  const X = [80, 380, 680, 820], y = (i, n) => 50 + (i + 0.5) * (380 / n), R = 24;
  const pos = { x: [], h: [], o: [] };
  for (let i = 0; i < n0; i++) pos.x.push([X[0], y(i, n0)]);
  for (let j = 0; j < n1; j++) pos.h.push([X[1], y(j, n1)]);
  for (let i = 0; i < n2; i++) pos.o.push([X[2], y(i, n2)]);
  const E = [X[3], 230];
  const path = selectedPath(r);

  // edges: weights, then o → E
  const edge = (from, to, name, layer, labelLines, t) => {
    const d = `M${from[0] + R},${from[1]} L${to[0] - R},${to[1]}`;
    svg('path', { d, class: 'edge' + (path.edges.has(name) ? ' selected' : '') });
    const hit = svg('path', { d, class: 'hit' });
    if (layer) { hit.onclick = () => { selected = name; draw(); }; hit.appendChild(document.createElementNS('http://www.w3.org/2000/svg', 'title')).textContent = `${name}: click for its chain rule`; }
    const lx = from[0] + R + (to[0] - from[0] - 2 * R) * t, ly = from[1] + (to[1] - from[1]) * t;
    labelLines.forEach(([text, cls], k) => svg('text', { x: lx, y: ly - 4 + 13 * k, 'text-anchor': 'middle', class: cls }, text));
  };
  const weightLabel = (name, v, grad) => {
    const lines = [[`${name} = ${fmt(stage === 5 ? v : v)}`, '']];
    if ((stage >= 3 && grad && grad.layer === 2) || (stage >= 4 && grad)) lines.push([`∂E/∂${name} = ${fmt(grad.value)}`, 'gradient']);
    if (stage === 5 && update[name] !== undefined) lines[0] = [`${name}: ${fmt(v)} → ${fmt(update[name])}`, 'value'];
    return lines;
  };
  r.hiddenWeightNames.forEach((name, k) => {
    const j = Math.floor(k / n0), i = k % n0;
    edge(pos.x[i], pos.h[j], name, 1, weightLabel(name, r.example.hiddenWeights[k], gradient[name]), 0.3 + 0.4 * ((i + j) % 2));
  });
  r.outputWeightNames.forEach((name, k) => {
    const o = Math.floor(k / n1), j = k % n1;
    edge(pos.h[j], pos.o[o], name, 2, weightLabel(name, r.example.outputWeights[k], gradient[name]), 0.3 + 0.4 * ((j + o) % 2));
  });
  pos.o.forEach((p, i) => {
    const lines = stage >= 2 ? [[`½(y${i + 1} − o${i + 1})²`, '']] : [];
    if (stage >= 3) lines.push([`∂E/∂o${i + 1} = ${fmt(factor[`∂E/∂o${i + 1}`])}`, 'factor']);
    edge(p, E, `o${i + 1}E`, 0, lines, 0.62);
  });

  // nodes
  const node = (p, name, lines, onPath) => {
    svg('circle', { cx: p[0], cy: p[1], r: R, class: onPath ? 'on-path' : '' });
    svg('text', { x: p[0], y: p[1] + 4, 'text-anchor': 'middle', class: 'value' }, name);
    lines.forEach(([text, cls], k) => svg('text', { x: p[0], y: p[1] + R + 14 + 13 * k, 'text-anchor': 'middle', class: cls }, text));
  };
  const bias = (names, values, layer) => (stage === 5
    ? names.map((b, k) => [`${b}: ${fmt(values[k])} → ${fmt(update[b])}`, 'value'])
    : names.map((b, k) => [`${b} = ${fmt(values[k])}` + (stage >= (layer === 2 ? 3 : 4) && gradient[b] ? `, ∂E/∂${b} = ${fmt(gradient[b].value)}` : ''), '']));
  pos.x.forEach((p, i) => node(p, `x${i + 1}`, [[fmt(r.example.inputs[i]), 'value']], path.nodes.has(`x${i + 1}`)));
  pos.h.forEach((p, j) => {
    const lines = stage >= 1 ? [[`z = ${fmt(value[`z_h${j + 1}`])}`, ''], [`h${j + 1} = ${fmt(value[`h${j + 1}`])}`, 'value']] : [];
    if (stage >= 4) lines.push([`∂E/∂h${j + 1} = ${fmt(factor[`∂E/∂h${j + 1}`])}`, 'factor'], [`∂h/∂z = ${fmt(factor[`∂h${j + 1}/∂z_h${j + 1}`])}`, 'factor']);
    node(p, `h${j + 1}`, lines, path.nodes.has(`h${j + 1}`));
  });
  pos.o.forEach((p, i) => {
    const lines = stage >= 1 ? [[`z = ${fmt(value[`z_o${i + 1}`])}`, ''], [`o${i + 1} = ${fmt(value[`o${i + 1}`])}`, 'value']] : [];
    if (stage >= 2) lines.push([`y${i + 1} = ${fmt(r.example.targets[i])}`, '']);
    if (stage >= 3) lines.push([`∂o/∂z = ${fmt(factor[`∂o${i + 1}/∂z_o${i + 1}`])}`, 'factor']);
    node(p, `o${i + 1}`, lines, path.nodes.has(`o${i + 1}`));
  });
  node(E, 'E', stage >= 2 ? [[fmt(r.loss.value), 'value']].concat(stage === 5 ? [[`after: ${fmt(r.newLoss)}`, 'gradient']] : []) : [], path.nodes.has('E'));
  svg('text', { x: X[1], y: 24, 'text-anchor': 'middle' }, bias(r.hiddenBiasNames, r.example.hiddenBias, 1).map((l) => l[0]).join('   '));
  svg('text', { x: X[2], y: 24, 'text-anchor': 'middle' }, bias(r.outputBiasNames, r.example.outputBias, 2).map((l) => l[0]).join('   '));
  svg('text', { x: 10, y: 452 }, `activation ${r.activationSymbol}, η = ${r.example.learningRate}`);
  explainStage(r);
  showDetail(r, gradient);
}

// The edges and nodes a selected weight's gradient runs through, from E back to the weight.
function selectedPath(r) {
  const edges = new Set(), nodes = new Set();
  if (!selected || stage < 3) return { edges, nodes };
  const [n0, n1, n2] = r.sizes;
  edges.add(selected);
  let k = r.outputWeightNames.indexOf(selected);
  if (k >= 0) {
    const o = Math.floor(k / n1), j = k % n1;
    edges.add(`o${o + 1}E`); nodes.add(`o${o + 1}`); nodes.add(`h${j + 1}`); nodes.add('E');
  } else if ((k = r.hiddenWeightNames.indexOf(selected)) >= 0) {
    const j = Math.floor(k / n0), i = k % n0;
    nodes.add(`x${i + 1}`); nodes.add(`h${j + 1}`); nodes.add('E');
    for (let o = 0; o < n2; o++) { edges.add(r.outputWeightNames[o * n1 + j]); edges.add(`o${o + 1}E`); nodes.add(`o${o + 1}`); }
  }
  return { edges, nodes };
}

function table(headers, rows) {
  return `<table><tr>${headers.map((h) => `<th>${h}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</table>`;
}

function explainStage(r) {
  const box = $('explanation');
  const q = (x) => [x.name, x.formula, x.substituted, fmt(x.value)];
  const grads = (layer) => r.gradients.filter((g) => g.layer === layer).map((g) => [
    `∂E/∂${g.parameter}`, g.factors.map((f) => f.name).join(g.combination === 'sum' ? ' + ' : ' · '),
    g.factors.map((f) => fmt(f.value)).join(g.combination === 'sum' ? ' + ' : ' × '), fmt(g.value), fmt(g.autograd)]);
  const texts = [
    'The network before the step: click a weight (after the loss) to follow its chain rule. → walks through the step.',
    'Forward: each neuron sums its weighted inputs and its bias (z), then applies the activation.<br>' + table(['', 'formula', 'with the numbers', 'value'], r.forward.map(q)),
    'The loss: the squared error of the outputs against the targets.<br>' + table(['', 'formula', 'with the numbers', 'value'], [q(r.loss)]),
    'The output layer: ∂E/∂w = ∂E/∂o · ∂o/∂z · ∂z/∂w, each factor on its edge or node; the last column is what autograd computed.<br>'
      + table(['gradient', 'factors', 'values', 'product', 'autograd'], grads(2)),
    'The hidden layer: ∂E/∂h sums what each output sends back (∂E/∂z_o · w), then · ∂h/∂z · ∂z/∂w.<br>'
      + table(['gradient', 'factors', 'values', 'product', 'autograd'], grads(1)),
    `The update w ← w − η·∂E/∂w. The loss falls from ${fmt(r.loss.value)} to ${fmt(r.newLoss)}; → takes the next step from the new weights.<br>`
      + table(['', 'formula', 'with the numbers', 'new value'], r.updates.map(q)),
  ];
  box.innerHTML = `<p><b>${STAGES[stage]}</b>: ${texts[stage]}</p>`;
}

function showDetail(r, gradient) {
  const box = $('detail');
  const g = selected && stage >= 3 ? gradient[selected] : null;
  if (!g) { box.innerHTML = ''; return; }
  const op = g.combination === 'sum' ? ' + ' : ' · ';
  box.innerHTML = `<p><b>∂E/∂${g.parameter}</b> = <span class="chain">${g.factors.map((f) => f.name).join(op)}</span><br>`
    + g.factors.map((f) => `${f.name} = ${f.formula} = ${fmt(f.value)}`).join('<br>')
    + `<br>= <b>${fmt(g.value)}</b> (autograd: ${fmt(g.autograd)})</p>`;
}

window.addEventListener('error', (e) => { (window.playgroundErrors = window.playgroundErrors || []).push(String(e.message)); });
setupEditor();
buildFields(COURSE);
start(JSON.parse(JSON.stringify(COURSE)), 0);
