// integrad explorer: the page. Plain DOM, Canvas and SVG; no library, nothing downloaded.
// Every string from the server (file, feature and class names, tokens, messages) reaches the page
// through textContent or setAttribute, never as HTML: a name such as <img onerror=...> stays text.
'use strict';

const TOKEN = document.querySelector('meta[name="integrad-token"]').content;
const $ = (id) => document.getElementById(id);
const SVG_NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (v, digits = 4) => (v === undefined || v === null ? '—' : Number(v).toPrecision(digits));

async function api(path, body) {
  const init = { headers: { 'X-Integrad-Token': TOKEN } };
  if (body !== undefined) {
    init.method = 'POST';
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const r = await fetch(path, init);
  const j = await r.json().catch(() => ({ error: `the server sent no JSON (HTTP ${r.status})` }));
  if (!r.ok) throw new Error(j.error || `HTTP ${r.status}`);
  return j;
}

// ---- state -------------------------------------------------------------------------------------
const S = {
  info: null, ex: null, kind: 'other', shape: [], model: 0, model2: null,
  example: 0, original: null, input: null, edited: false, job: null, lastResult: null,
};
const className = (k) => (S.info.class_names[k] !== undefined ? S.info.class_names[k] : String(k));
const exampleSize = () => S.shape.reduce((a, b) => a * b, 1);

function setStatus(text) { $('status').textContent = text; }
function showError(e) { $('error').textContent = e ? String(e.message || e) : ''; }

// A computing request as a job: progress while it runs, Cancel stops it.
async function runJob(body) {
  const { job } = await api('/api/run', body);
  S.job = job;
  $('cancel').disabled = false;
  $('progress').value = 0;
  try {
    for (;;) {
      const s = await api('/api/job?id=' + job);
      $('progress').value = s.progress;
      setStatus(`${body.op}: ${s.state} ${Math.round(100 * s.progress)}%`);
      if (s.state === 'done') return s.result;
      if (s.state === 'failed') throw new Error(s.error);
      if (s.state === 'cancelled') throw new Error('cancelled');
      await sleep(s.state === 'queued' ? 100 : 40);
    }
  } finally {
    S.job = null;
    $('cancel').disabled = true;
  }
}

// ---- examples ----------------------------------------------------------------------------------
// The grid's values of example i: thumbnails (at most 48 pixels a side) for images, else the values.
function gridValues(i) {
  if (S.kind === 'image') {
    const n = S.ex.thumb_shape.reduce((a, b) => a * b, 1);
    const [lo, hi] = S.ex.range;
    return Array.from(S.pixels.subarray(i * n, (i + 1) * n), (b) => lo + (b / 255) * (hi - lo));
  }
  const n = exampleSize();
  return S.ex.values.slice(i * n, (i + 1) * n);
}

// An image [C, H, W] (C = 1 or 3) drawn `scale` times its size.
function drawImage(canvas, values, scale, shape = S.shape) {
  const [c, h, w] = shape;
  canvas.width = w * scale; canvas.height = h * scale;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(w, h);
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (S.ex.range) [lo, hi] = [Math.min(lo, S.ex.range[0]), Math.max(hi, S.ex.range[1])];
  const span = hi - lo || 1;
  for (let p = 0; p < h * w; ++p) {
    for (let ch = 0; ch < 3; ++ch) img.data[4 * p + ch] = (255 * (values[(c === 3 ? ch : 0) * h * w + p] - lo)) / span;
    img.data[4 * p + 3] = 255;
  }
  const tmp = el('canvas', { width: w, height: h });
  tmp.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, w * scale, h * scale);
}

function buildGrid() {
  const grid = $('examples');
  grid.replaceChildren();
  const ft = $('filter-true').value, fp = $('filter-pred').value, fc = $('filter-correct').value;
  const labels = S.ex.labels, pred = S.ex.predicted[S.model];
  let shown = 0;
  for (let i = 0; i < S.info.count; ++i) {
    const correct = labels.length ? labels[i] === pred[i] : null;
    if (ft !== '' && labels[i] !== Number(ft)) continue;
    if (fp !== '' && pred[i] !== Number(fp)) continue;
    if (fc !== '' && correct !== (fc === '1')) continue;
    const title = `#${i}` + (labels.length ? ` true ${className(labels[i])}` : '') + ` predicted ${className(pred[i])}`;
    let item;
    if (S.kind === 'image') {
      item = el('canvas', { class: 'example', title, 'data-index': i });
      drawImage(item, gridValues(i), 1, S.ex.thumb_shape);
      item.style.width = item.style.height = '40px';
    } else {
      const vals = gridValues(i).map((v) => (S.kind === 'tokens' ? v : Number(v).toFixed(2)));
      item = el('button', { class: 'example row', title, 'data-index': i }, `#${i} ${labels.length ? className(labels[i]) + '→' : ''}${className(pred[i])}: ${vals.join(' ')}`);
    }
    if (correct === false) item.classList.add('wrong');
    if (i === S.example) item.classList.add('selected');
    item.addEventListener('click', () => selectExample(i));
    grid.append(item);
    ++shown;
  }
  if (!shown) grid.append(el('p', {}, 'no example matches the filters'));
}

async function selectExample(i) {
  S.example = i;
  try {
    S.original = (await api('/api/example?i=' + i)).values;
  } catch (e) { return showError(e); }
  S.input = S.original.slice();
  S.edited = false;
  for (const e of document.querySelectorAll('.example')) e.classList.toggle('selected', Number(e.dataset.index) === i);
  const label = S.ex.labels.length ? `, true class ${className(S.ex.labels[i])}` : '';
  $('example-name').textContent = `#${i}${label}`;
  buildEditor();
  predict();
}

// ---- what-if editors ---------------------------------------------------------------------------
let predictTimer = null;
function edited() {
  S.edited = true;
  clearTimeout(predictTimer);
  predictTimer = setTimeout(predict, 60);
}

function buildEditor() {
  const box = $('editor');
  box.replaceChildren();
  const reset = el('button', { onclick: () => { S.input = S.original.slice(); S.edited = false; buildEditor(); predict(); } }, 'Reset');
  if (S.kind === 'image') {
    const canvas = el('canvas', { id: 'paint' });
    const draw = () => drawImage(canvas, S.input, 10);
    draw();
    const tool = el('select', { id: 'brush' }, el('option', { value: 'paint' }, 'paint'), el('option', { value: 'erase' }, 'erase'));
    const size = el('select', { id: 'brush-size' }, ...[1, 2, 3].map((s) => el('option', { value: s }, `${s} px`)));
    let down = false;
    const paint = (ev) => {
      const [c, h, w] = S.shape;
      const r = canvas.getBoundingClientRect();
      const x = Math.floor(((ev.clientX - r.left) / r.width) * w), y = Math.floor(((ev.clientY - r.top) / r.height) * h);
      const [lo, hi] = S.ex.range;
      const value = tool.value === 'paint' ? hi : lo, s = Number(size.value);
      for (let ch = 0; ch < c; ++ch)
        for (let dy = 0; dy < s; ++dy)
          for (let dx = 0; dx < s; ++dx)
            if (x + dx < w && y + dy < h && x + dx >= 0 && y + dy >= 0) S.input[ch * h * w + (y + dy) * w + x + dx] = value;
      draw();
    };
    canvas.addEventListener('mousedown', (ev) => { down = true; paint(ev); });
    canvas.addEventListener('mousemove', (ev) => { if (down) paint(ev); });
    window.addEventListener('mouseup', () => { if (down) { down = false; edited(); } });
    box.append(canvas, el('div', { class: 'row' }, tool, size, reset));
  } else if (S.kind === 'tabular') {
    const names = S.info.feature_names.length ? S.info.feature_names : S.input.map((_, j) => `feature ${j}`);
    const { min, max } = S.info.feature_ranges;
    S.input.forEach((v, j) => {
      const lo = Math.min(min[j], v), hi = Math.max(max[j], v);
      const out = el('span', {}, Number(v).toFixed(3));
      const slider = el('input', { type: 'range', min: lo, max: hi, step: (hi - lo) / 200 || 0.01, value: v, 'data-feature': j, 'aria-label': names[j] });
      slider.addEventListener('input', () => { S.input[j] = Number(slider.value); out.textContent = Number(slider.value).toFixed(3); edited(); });
      box.append(el('div', { class: 'slider' }, el('span', { title: names[j] }, names[j]), slider, out));
    });
    box.append(reset);
  } else if (S.kind === 'tokens') {
    let selected = 0;
    const chips = el('div', { id: 'tokens' });
    const replaceBy = el('input', { type: 'number', id: 'token-id', value: 0, min: 0, step: 1, title: 'the token id to put in' });
    const redraw = () => {
      chips.replaceChildren(...S.input.map((t, j) => {
        const chip = el('span', { class: 'token' + (j === selected ? ' selected' : ''), 'data-position': j }, String(t));
        chip.addEventListener('click', () => { selected = j; redraw(); });
        return chip;
      }));
    };
    redraw();
    const set = (v) => { S.input[selected] = v; redraw(); edited(); };
    box.append(chips, el('div', { class: 'row' }, 'selected token:', replaceBy,
      el('button', { onclick: () => set(Math.max(0, Math.round(Number(replaceBy.value)))) }, 'Replace'),
      el('button', { onclick: () => set(0) }, 'Mask (id 0)'), reset));
  } else {
    box.append(el('p', {}, `an example of shape [${S.shape.join(', ')}]`));
  }
}

function models() { return S.model2 === null ? [S.model] : [S.model, S.model2]; }

function inputPart() { return S.edited ? { input: S.input } : { example: S.example }; }

async function predict() {
  try {
    const r = await api('/api/run?wait=1', { op: 'predict', models: models(), ...inputPart() });
    const box = $('predictions');
    box.replaceChildren();
    box.dataset.version = (Number(box.dataset.version) || 0) + 1;  // tests wait for a new one
    r.result.predictions.forEach((p, k) => {
      const m = models()[k];
      const top = p.predicted;
      box.append(el('h3', {}, S.info.models[m].label),
        el('p', { class: 'prediction', id: `prediction-${k}`, 'data-predicted': top, 'data-probability': p.probabilities[top] },
          `predicted ${className(top)} (p = ${fmt(p.probabilities[top], 4)})`));
      const order = p.probabilities.map((v, c) => [v, c]).sort((a, b) => b[0] - a[0]).slice(0, 5);
      for (const [v, c] of order) {
        const fill = el('div', { class: 'fill' });
        fill.style.width = `${(100 * v).toFixed(1)}%`;
        box.append(el('div', { class: 'bar' }, el('span', {}, className(c)), el('div', {}, fill), el('span', {}, v.toFixed(3))));
      }
    });
  } catch (e) { showError(e); }
}

// ---- methods form, generated from the registry ---------------------------------------------------
// A method option that names a layer (kind text, name "layer": layer IG, Grad-CAM) is a list of the
// model's layers as /api/info gives them (node names or module paths, with each output's shape),
// not a free text field. Attention's "layer" is an index (kind integer) and stays a number.
const isLayerPicker = (o) => o.kind === 'text' && o.name === 'layer';

function fillLayerPicker(select) {
  const keep = select.value;
  const model = S.info.models[S.model];
  const none = el('option', { value: '' }, select.dataset.none);
  select.replaceChildren(none, ...(model.layers || []).map((l) => el('option', {
    value: l.name, 'data-image': String(l.image),
    title: l.module ? `the module ${l.name}: the output of its last node` : l.layer,
  }, `${l.name} — ${l.module ? 'module' : l.layer} → [${l.output_shape.join(', ')}]`)));
  select.value = [...select.options].some((o) => o.value === keep) ? keep : '';
}

function fillLayerPickers() {
  for (const select of document.querySelectorAll('select[data-layer-picker]')) fillLayerPicker(select);
}

function buildMethods() {
  const box = $('methods');
  box.replaceChildren();
  for (const m of S.info.methods) {
    const on = el('input', { type: 'checkbox', id: `m-${m.name}`, 'data-method': m.name });
    const fields = el('fieldset', {});
    for (const o of m.options) {
      const id = `o-${m.name}-${o.name}`;
      let input;
      if (o.kind === 'choice') input = el('select', { id }, ...o.choices.map((c) => el('option', { value: c }, c)));
      else if (isLayerPicker(o)) {
        input = el('select', { id, 'data-layer-picker': '1', 'data-none': m.name === 'ig' ? '(none: the inputs)' : '(default)' });
        fillLayerPicker(input);
      }
      else if (o.kind === 'flag') input = el('input', { id, type: 'checkbox' });
      else if (o.kind === 'text') input = el('input', { id, type: 'text' });
      else {
        input = el('input', { id, type: 'number', step: o.kind === 'integer' ? 1 : 'any' });
        if (o.min !== undefined) input.min = o.min;
        if (o.max !== undefined) input.max = o.max;
      }
      if (o.kind === 'flag') input.checked = o.default === 'true';
      else input.value = o.default;
      if (S.kind === 'tokens' && m.name === 'ig' && o.name === 'layer') input.value = '0';
      input.dataset.default = o.kind === 'flag' ? String(o.default === 'true') : o.default;
      input.dataset.kind = o.kind;
      input.dataset.option = o.name;
      const range = o.min !== undefined && o.max !== undefined && o.kind !== 'flag' ? ` [${o.min}, ${o.max}]` : '';
      fields.append(el('label', { for: id, title: o.help + range }, o.name), input);
    }
    const item = el('div', { class: 'method' }, el('label', { title: m.summary }, on, ` ${m.display_name}`), fields);
    on.addEventListener('change', () => item.classList.toggle('on', on.checked));
    box.append(item);
  }
}

// The chosen methods with the options that differ from their defaults (as the CLI would be given).
function chosenMethods() {
  const out = [];
  for (const m of S.info.methods) {
    if (!$(`m-${m.name}`).checked) continue;
    const options = {};
    for (const o of m.options) {
      const input = $(`o-${m.name}-${o.name}`);
      const value = o.kind === 'flag' ? String(input.checked) : input.value;
      if (value !== input.dataset.default && value !== '' && !(o.kind === 'flag' && value === 'false')) options[o.name] = value;
    }
    out.push({ name: m.name, options });
  }
  return out;
}

function baselinePart() {
  const kind = $('baseline-kind').value, v = Number($('baseline-value').value);
  if (kind === 'number') return { kind, value: v };
  if (kind === 'blurred') return { kind, sigma: v > 0 ? v : 3 };
  return { kind };
}

function request(op) {
  const t = $('target').value;
  return { op, models: models(), ...inputPart(), target: t === 'predicted' ? 'predicted' : Number(t), baseline: baselinePart(), methods: chosenMethods() };
}

// ---- maps ----------------------------------------------------------------------------------------
// Diverging blue–white–red for signed maps (0 is white), white–red for magnitudes.
function colour(v, scale, signed) {
  const t = Math.max(-1, Math.min(1, v / (scale || 1)));
  if (!signed || t >= 0) { const a = Math.abs(t); return [255, Math.round(255 * (1 - a)), Math.round(255 * (1 - a))]; }
  const a = -t;
  return [Math.round(255 * (1 - a)), Math.round(255 * (1 - a)), 255];
}

function scaleLegend(scale, signed) {
  const c = el('canvas', { width: 120, height: 10 });
  const ctx = c.getContext('2d');
  for (let x = 0; x < 120; ++x) {
    const v = signed ? (x / 119) * 2 - 1 : x / 119;
    const [r, g, b] = colour(v, 1, signed);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(x, 0, 1, 10);
  }
  return el('div', { class: 'scale' }, el('span', {}, fmt(signed ? -scale : 0, 3)), c, el('span', {}, fmt(scale, 3)));
}

function npyBytes(values, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const buf = new ArrayBuffer(10 + header.length + 4 * values.length);
  const bytes = new Uint8Array(buf);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(buf).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; ++i) bytes[10 + i] = header.charCodeAt(i);
  const data = new DataView(buf, 10 + header.length);
  values.forEach((v, i) => data.setFloat32(4 * i, v, true));
  return new Blob([buf], { type: 'application/octet-stream' });
}

function download(blob, name) {
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function curvesSvg(curves) {
  const W = 220, H = 90, s = svg('svg', { width: W, height: H + 16, class: 'curves' });
  s.append(svg('rect', { x: 0, y: 0, width: W, height: H, fill: '#fff', stroke: '#ccc' }));
  const colours = { deletion: '#c62828', insertion: '#2e7d32' };
  let y = H + 12;
  let x0 = 2;
  for (const [name, c] of Object.entries(curves)) {
    const pts = c.p.map((p, k) => `${(k / (c.p.length - 1)) * W},${H - p * H}`).join(' ');
    s.append(svg('polyline', { points: pts, fill: 'none', stroke: colours[name], 'stroke-width': 1.5 }));
    s.append(svg('text', { x: x0, y, 'font-size': 10, fill: colours[name], class: `area-${name}` }, `${name} area ${c.area.toFixed(3)}`));
    x0 += 110;
  }
  return s;
}

function mapCard(mi, m, example) {
  const values = m.values;
  let scale = 0;
  for (const v of values) scale = Math.max(scale, Math.abs(v));
  const card = el('div', { class: 'map', 'data-method': m.method, 'data-model': mi });
  card.append(el('h4', {}, m.display_name));
  let canvas = null;
  const imageShaped = S.kind === 'image' && m.shape.length === 4 && m.shape[2] === S.shape[1] && m.shape[3] === S.shape[2];
  if (imageShaped) {
    // Channels summed: one value per pixel, as the CLI's heatmaps show it.
    const [, c, h, w] = m.shape;
    const summed = new Float64Array(h * w);
    for (let ch = 0; ch < c; ++ch) for (let p = 0; p < h * w; ++p) summed[p] += values[ch * h * w + p];
    scale = 0;
    for (const v of summed) scale = Math.max(scale, Math.abs(v));
    const sc = 8;
    canvas = el('canvas', { width: w * sc, height: h * sc });
    const ctx = canvas.getContext('2d');
    for (let p = 0; p < h * w; ++p) {
      const [r, g, b] = colour(summed[p], scale, m.signed);
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect((p % w) * sc, Math.floor(p / w) * sc, sc, sc);
    }
    card.append(canvas);
  } else if (S.kind === 'tabular' && values.length === exampleSize()) {
    const names = S.info.feature_names.length ? S.info.feature_names : values.map((_, j) => `feature ${j}`);
    const W = 330, rowH = 16, mid = 215, s = svg('svg', { width: W, height: rowH * values.length + 4 });
    values.forEach((v, j) => {
      const len = (Math.abs(v) / (scale || 1)) * 60;
      const [r, g, b] = colour(v, scale, m.signed);
      // A long name is cut; the whole of it is the row's tooltip.
      const label = svg('text', { x: 0, y: rowH * j + 12, 'font-size': 11 }, names[j].length > 22 ? names[j].slice(0, 21) + '…' : names[j]);
      label.append(svg('title', {}, names[j]));
      s.append(label);
      s.append(svg('rect', { x: v >= 0 ? mid : mid - len, y: rowH * j + 3, width: len, height: rowH - 6, fill: `rgb(${r},${g},${b})`, stroke: '#888' }));
      s.append(svg('text', { x: v >= 0 ? mid + len + 3 : mid + 3, y: rowH * j + 12, 'font-size': 9 }, fmt(v, 3)));
    });
    card.append(s);
  } else if (S.kind === 'tokens' && values.length === exampleSize()) {
    const row = el('div', { class: 'tokens-map' });
    values.forEach((v, j) => {
      const [r, g, b] = colour(v, scale, m.signed);
      const chip = el('span', { class: 'token', title: fmt(v, 4) }, String(example[j]));
      chip.style.background = `rgb(${r},${g},${b})`;
      row.append(chip);
    });
    card.append(row);
  } else {
    card.append(el('p', {}, `a map of shape [${m.shape.join(', ')}]`));
  }
  card.append(scaleLegend(scale, m.signed));
  const numbers = el('div', { class: 'numbers' });
  if (m.delta !== undefined)
    numbers.append(el('div', {}, 'completeness delta ', el('span', { class: 'delta', 'data-value': m.delta }, fmt(m.delta, 4))));
  let sum = 0;
  for (const v of values) sum += v;
  numbers.append(el('div', {}, `Σ A = ${fmt(sum, 4)}`));
  if (m.f_input !== undefined) numbers.append(el('div', {}, `F(x) = ${fmt(m.f_input)}, F(x′) = ${fmt(m.f_baseline)}`));
  if (m.target !== undefined) numbers.append(el('div', {}, `target ${className(m.target)}; ${m.ms.toFixed(1)} ms`));
  card.append(numbers);
  if (m.curves) card.append(curvesSvg(m.curves));
  else if (m.curves_note) card.append(el('p', { class: 'numbers' }, m.curves_note));
  const base = `integrad-${S.info.models[mi].label}-${m.method}-example${S.example}`;
  const buttons = el('div', { class: 'row' });
  if (canvas) buttons.append(el('button', { onclick: () => canvas.toBlob((b) => download(b, base + '.png')) }, 'Save PNG'));
  buttons.append(el('button', { onclick: () => download(npyBytes(values, m.shape), base + '.npy') }, 'Save .npy'));
  card.append(buttons);
  return card;
}

function showResults(result, example) {
  const box = $('results');
  box.replaceChildren(el('h2', {}, `Attributions (server ${result.server_ms.toFixed(1)} ms)`));
  for (const r of result.models) {
    const row = el('div', { class: 'model-row' }, el('h3', {}, `${r.label}: predicted ${className(r.prediction.predicted)}`));
    for (const m of r.maps) row.append(mapCard(r.model, m, example));
    box.append(row);
  }
}

// ---- URL: the view's state in the hash, restored on load -----------------------------------------
function saveView() {
  const view = { a: S.model, b: S.model2, e: S.example, m: chosenMethods(), bk: $('baseline-kind').value, bv: $('baseline-value').value, t: $('target').value };
  if (S.edited && S.kind !== 'image') view.in = S.input;
  history.replaceState(null, '', '#' + encodeURIComponent(JSON.stringify(view)));
}

async function restoreView() {
  if (location.hash.length < 2) return false;
  let v;
  try { v = JSON.parse(decodeURIComponent(location.hash.slice(1))); } catch { return false; }
  const n = S.info.models.length;
  if (Number.isInteger(v.a) && v.a >= 0 && v.a < n) { S.model = v.a; $('model-a').value = String(v.a); fillLayerPickers(); }
  if (Number.isInteger(v.b) && v.b >= 0 && v.b < n) { S.model2 = v.b; $('model-b').value = String(v.b); }
  if (['zero', 'blurred', 'mean', 'number'].includes(v.bk)) $('baseline-kind').value = v.bk;
  if (v.bv !== undefined) $('baseline-value').value = Number(v.bv);
  if (v.t !== undefined && [...$('target').options].some((o) => o.value === String(v.t))) $('target').value = String(v.t);
  for (const m of Array.isArray(v.m) ? v.m : []) {
    const box = document.getElementById(`m-${m.name}`);
    if (!box) continue;
    box.checked = true;
    box.dispatchEvent(new Event('change'));
    for (const [k, val] of Object.entries(m.options || {})) {
      const input = document.getElementById(`o-${m.name}-${k}`);
      if (!input) continue;
      if (input.type === 'checkbox') input.checked = val === 'true'; else input.value = val;
    }
  }
  const e = Number.isInteger(v.e) && v.e >= 0 && v.e < S.info.count ? v.e : 0;
  S.example = e;
  buildGrid();
  await selectExample(e);
  if (Array.isArray(v.in) && v.in.length === exampleSize() && v.in.every((x) => typeof x === 'number')) {
    S.input = v.in.slice();
    S.edited = true;
    buildEditor();
    predict();
  }
  return Array.isArray(v.m) && v.m.length > 0;
}

// ---- actions -------------------------------------------------------------------------------------
async function action(op, show) {
  showError(null);
  const body = request(op);
  if (op !== 'convergence' && !body.methods.length) return showError('pick at least one method');
  const example = S.input.slice();
  saveView();
  try {
    show(await runJob(body), example);
    setStatus(`${op}: done`);
  } catch (e) {
    showError(e);
    setStatus(`${op}: ${e.message === 'cancelled' ? 'cancelled' : 'failed'}`);
  }
}

function showConvergence(result) {
  const box = $('convergence-box');
  const W = 420, H = 220, L = 50, B = 30;
  const all = result.convergence.flatMap((r) => r.points);
  const ys = all.map((p) => Math.log10(Math.max(p.delta, 1e-12)));
  const xs = all.map((p) => Math.log2(p.steps));
  const [y0, y1] = [Math.min(...ys), Math.max(...ys) + 1e-9], [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const px = (s) => L + ((Math.log2(s) - x0) / (x1 - x0 || 1)) * (W - L - 10);
  const py = (d) => 10 + (1 - (Math.log10(Math.max(d, 1e-12)) - y0) / (y1 - y0 || 1)) * (H - B - 10);
  const s = svg('svg', { width: W + 150, height: H, id: 'convergence-plot' });
  s.append(svg('rect', { x: L, y: 10, width: W - L - 10, height: H - B - 10, fill: '#fff', stroke: '#ccc' }));
  s.append(svg('text', { x: L, y: H - 5, 'font-size': 11 }, `steps (log₂, ${Math.pow(2, x0)} to ${Math.pow(2, x1)})`));
  s.append(svg('text', { x: 2, y: 20, 'font-size': 10 }, `1e${y1.toFixed(0)}`));
  s.append(svg('text', { x: 2, y: H - B, 'font-size': 10 }, `1e${y0.toFixed(0)}`));
  const colours = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00'];
  result.convergence.forEach((r, k) => {
    s.append(svg('polyline', { points: r.points.map((p) => `${px(p.steps)},${py(p.delta)}`).join(' '), fill: 'none', stroke: colours[k], 'stroke-width': 1.5 }));
    s.append(svg('text', { x: W, y: 20 + 14 * k, 'font-size': 11, fill: colours[k] }, r.rule));
  });
  box.replaceChildren(el('h2', {}, 'IG convergence: |completeness delta| against the steps, per quadrature rule'), s);
  box.scrollIntoView({ block: 'nearest' });
}

function showAxioms(result) {
  const box = $('axioms-box');
  const rows = result.axioms;
  const names = rows.length ? Object.keys(rows[0].checks) : [];
  const table = el('table', { class: 'axioms' }, el('tr', {}, el('th', {}, 'method'), ...names.map((n) => el('th', {}, n))));
  for (const r of rows) {
    const tr = el('tr', {}, el('td', {}, r.method));
    for (const n of names) {
      const c = r.checks[n];
      const text = !c.applicable ? 'n/a' : `${c.passed ? 'pass' : 'FAIL'} ${fmt(c.figure, 2)}`;
      tr.append(el('td', { class: !c.applicable ? 'na' : c.passed ? 'pass' : 'fail', title: c.detail }, text));
    }
    table.append(tr);
  }
  box.replaceChildren(el('h2', {}, 'Axiom checks on this example (hover a cell for the detail)'), table);
  box.scrollIntoView({ block: 'nearest' });
}

// ---- start -----------------------------------------------------------------------------------------
async function start() {
  try {
    S.info = await api('/api/info');
    S.ex = await api('/api/examples');
  } catch (e) { return showError(e); }
  const first = S.info.models[0];
  S.kind = first.kind;
  S.shape = first.input_shape;
  if (S.ex.pixels) S.pixels = Uint8Array.from(atob(S.ex.pixels), (c) => c.charCodeAt(0));
  $('source').textContent = `${S.info.count} examples from ${S.info.source}`;
  S.info.models.forEach((m, k) => {
    $('model-a').append(el('option', { value: k }, m.label));
    $('model-b').append(el('option', { value: k }, m.label));
  });
  for (let c = 0; c < first.num_classes; ++c) {
    for (const id of ['filter-true', 'filter-pred', 'target']) $(id).append(el('option', { value: c }, className(c)));
  }
  if (!S.info.has_labels) { $('filter-true').disabled = true; $('filter-correct').disabled = true; }
  if (!S.info.has_mean) $('baseline-kind').querySelector('option[value="mean"]').disabled = true;
  if (S.kind !== 'image') $('baseline-kind').querySelector('option[value="blurred"]').disabled = true;
  if (S.kind === 'tokens') { $('baseline-kind').value = 'number'; $('baseline-value').value = 0; }
  $('model-a').addEventListener('change', () => { S.model = Number($('model-a').value); fillLayerPickers(); buildGrid(); predict(); });
  $('model-b').addEventListener('change', () => { S.model2 = $('model-b').value === '' ? null : Number($('model-b').value); predict(); });
  for (const id of ['filter-true', 'filter-pred', 'filter-correct']) $(id).addEventListener('change', buildGrid);
  $('explain').addEventListener('click', () => action('explain', (r, x) => { S.lastResult = r; showResults(r, x); }));
  $('convergence').addEventListener('click', () => action('convergence', showConvergence));
  $('axioms').addEventListener('click', () => action('axioms', showAxioms));
  $('cancel').addEventListener('click', () => { if (S.job) api('/api/cancel?id=' + S.job, {}).catch(showError); });
  buildMethods();
  if (await restoreView()) $('explain').click();
  else { buildGrid(); await selectExample(0); }
  document.body.dataset.ready = '1';
}

start();
