// The Vary (Region) editor: mark areas with rectangles or free-hand lassos (mouse, pen or touch, through pointer
// events), undo, clear, edit the prompt, send. The mask is drawn at the image's own size: white = repaint.
'use strict';
(() => {
  const data = JSON.parse(document.getElementById('editor-data').textContent);
  const text = data.strings;
  const img = document.getElementById('image');
  const overlay = document.getElementById('overlay');
  const form = document.getElementById('form');
  const prompt = document.getElementById('prompt');
  const submit = document.getElementById('submit');
  const undo = document.getElementById('undo');
  const clear = document.getElementById('clear');
  const status = document.getElementById('status');
  const toolButtons = Array.from(document.querySelectorAll('[data-tool]'));
  const view = overlay.getContext('2d');

  /** Shapes in image pixels: { kind: 'rect', x, y, w, h } or { kind: 'lasso', points: [[x, y], ...] }. */
  const shapes = [];
  let tool = 'rect';
  let current = null;
  let pointer = null;
  let done = false;
  let width = 0;
  let height = 0;

  function setTool(name) {
    tool = name;
    for (const b of toolButtons) b.setAttribute('aria-pressed', String(b.dataset.tool === name));
  }
  for (const b of toolButtons) b.addEventListener('click', () => setTool(b.dataset.tool));

  function toImage(e) {
    const r = overlay.getBoundingClientRect();
    const x = ((e.clientX - r.left) * width) / r.width;
    const y = ((e.clientY - r.top) * height) / r.height;
    return [Math.max(0, Math.min(width, x)), Math.max(0, Math.min(height, y))];
  }

  function outline(ctx, shape) {
    ctx.beginPath();
    if (shape.kind === 'rect') ctx.rect(shape.x, shape.y, shape.w, shape.h);
    else {
      shape.points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
      ctx.closePath();
    }
  }

  const rectOf = (c) => ({ kind: 'rect', x: Math.min(c.x0, c.x1), y: Math.min(c.y0, c.y1), w: Math.abs(c.x1 - c.x0), h: Math.abs(c.y1 - c.y0) });
  const shapeOf = (c) => (c.kind === 'drag' ? rectOf(c) : c);

  function render() {
    view.clearRect(0, 0, width, height);
    view.fillStyle = 'rgba(88, 101, 242, 0.45)';
    view.strokeStyle = '#ffffff';
    view.lineWidth = Math.max(2, width / 320);
    for (const s of current ? [...shapes, shapeOf(current)] : shapes) {
      outline(view, s);
      view.fill();
      view.stroke();
    }
    undo.disabled = done || shapes.length === 0;
    clear.disabled = done || shapes.length === 0;
    submit.disabled = done || shapes.length === 0 || prompt.value.trim() === '';
  }

  function start() {
    width = img.naturalWidth;
    height = img.naturalHeight;
    overlay.width = width;
    overlay.height = height;
    render();
  }
  if (img.complete && img.naturalWidth > 0) start();
  else img.addEventListener('load', start);

  overlay.addEventListener('pointerdown', (e) => {
    if (done || pointer !== null || width === 0) return;
    e.preventDefault();
    pointer = e.pointerId;
    overlay.setPointerCapture(e.pointerId);
    const [x, y] = toImage(e);
    current = tool === 'rect' ? { kind: 'drag', x0: x, y0: y, x1: x, y1: y } : { kind: 'lasso', points: [[x, y]] };
    render();
  });
  overlay.addEventListener('pointermove', (e) => {
    if (e.pointerId !== pointer || !current) return;
    e.preventDefault();
    const [x, y] = toImage(e);
    if (current.kind === 'drag') Object.assign(current, { x1: x, y1: y });
    else current.points.push([x, y]);
    render();
  });
  function finish(e) {
    if (e.pointerId !== pointer) return;
    pointer = null;
    const shape = current && shapeOf(current);
    current = null;
    // A click or a tap with no area marks nothing.
    if (shape && (shape.kind === 'rect' ? shape.w >= 2 && shape.h >= 2 : shape.points.length >= 3)) shapes.push(shape);
    render();
  }
  overlay.addEventListener('pointerup', finish);
  overlay.addEventListener('pointercancel', finish);

  undo.addEventListener('click', () => {
    shapes.pop();
    render();
  });
  clear.addEventListener('click', () => {
    shapes.length = 0;
    render();
  });
  prompt.addEventListener('input', render);

  /** The mask the relay gets: black, with every shape filled white, at the image's own size. */
  function mask() {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#000000';
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = '#ffffff';
    for (const s of shapes) {
      outline(ctx, s);
      ctx.fill();
    }
    return canvas.toDataURL('image/png');
  }

  function say(message, kind) {
    status.textContent = message;
    status.className = kind;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (done || shapes.length === 0) return say(text.drawFirst, 'error');
    submit.disabled = true;
    say(text.sending, '');
    try {
      const res = await fetch(location.pathname, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: prompt.value, mask: mask() }),
      });
      const answer = await res.json();
      if (answer.ok) {
        done = true;
        prompt.readOnly = true;
        for (const b of toolButtons) b.disabled = true;
      }
      say(answer.message, answer.ok ? 'ok' : 'error');
    } catch {
      say(text.failed, 'error');
    }
    render();
  });
})();
