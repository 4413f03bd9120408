/**
 * The viewer's program, run by the browser from the HTML file. It reads only the trace data
 * embedded in the page (the zip of format.ts, base64), builds the page with DOM calls (titles and
 * errors are text, never HTML) and needs no network. Plain ES2020, no template literals.
 */
export const VIEWER_JS = String.raw`
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var key in attrs || {}) {
      if (key === 'text') node.textContent = attrs[key];
      else if (key === 'className') node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    }
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    for (var key in attrs) node.setAttribute(key, String(attrs[key]));
    return node;
  }
  function seconds(ms) { return (ms / 1000).toFixed(2) + ' s'; }
  function millis(ms) { return ms < 1000 ? Math.round(ms) + ' ms' : seconds(ms); }

  // ---- the data: a zip of stored entries, base64 in the page
  function decodeBase64(text) {
    var binary = atob(text.replace(/\s+/g, ''));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }
  function readZip(bytes) {
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    var end = -1;
    for (var at = bytes.length - 22; at >= 0; at--) if (view.getUint32(at, true) === 0x06054b50) { end = at; break; }
    if (end < 0) throw new Error('the embedded trace is not a zip');
    var count = view.getUint16(end + 10, true);
    var p = view.getUint32(end + 16, true);
    var entries = {};
    var decoder = new TextDecoder();
    for (var n = 0; n < count; n++) {
      var size = view.getUint32(p + 20, true);
      var nameLength = view.getUint16(p + 28, true);
      var skip = nameLength + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
      var local = view.getUint32(p + 42, true);
      var name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLength));
      var start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
      entries[name] = bytes.subarray(start, start + size);
      p += 46 + skip;
    }
    return entries;
  }

  var entries = readZip(decodeBase64(document.getElementById('vnc-trace-data').textContent));
  var trace = JSON.parse(new TextDecoder().decode(entries['trace.json']));
  var urls = {};
  function frameUrl(id) {
    if (!id) return undefined;
    if (!urls[id]) {
      var png = entries['frames/' + id + '.png'];
      if (!png) return undefined;
      urls[id] = URL.createObjectURL(new Blob([png], { type: 'image/png' }));
    }
    return urls[id];
  }
  function frameSize(id) { return (trace.frames[id] || trace.screen); }

  // ---- header
  var header = document.querySelector('header');
  header.appendChild(el('h1', { text: trace.title || 'VNC trace' }));
  if (trace.status) header.appendChild(el('span', { className: 'status-' + trace.status, text: trace.status, id: 'status' }));
  header.appendChild(el('span', { className: 'muted', text: trace.remote + ' · ' + trace.screen.width + '×' + trace.screen.height + ' · ' + seconds(trace.duration) + ' · ' + trace.actions.length + ' actions · ' + trace.filmstrip.length + ' filmstrip frames' }));
  header.appendChild(el('span', { className: 'muted hint', text: '↑/↓ actions · ←/→ filmstrip' }));

  // ---- a screen image with what the action did drawn over it
  function shot(id, caption, action, cls) {
    var figure = el('figure', { id: cls }, [el('figcaption', { text: caption })]);
    var box = el('div', { className: 'shot', title: 'Click to see it at full size' });
    // Full size (one screen pixel per CSS pixel) to read small text; click again to fit.
    box.addEventListener('click', function () { figure.classList.toggle('zoomed'); });
    var url = frameUrl(id);
    if (!url) {
      box.appendChild(el('div', { className: 'empty', text: 'no image' }));
      figure.appendChild(box);
      return figure;
    }
    var size = frameSize(id);
    box.appendChild(el('img', { src: url, alt: caption, 'data-frame': id, width: String(size.width), height: String(size.height) }));
    if (action) {
      var layer = svg('svg', { viewBox: '0 0 ' + size.width + ' ' + size.height, preserveAspectRatio: 'none' });
      var defs = svg('defs', {});
      var arrow = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' });
      arrow.appendChild(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#ff2828' }));
      defs.appendChild(arrow);
      layer.appendChild(defs);
      var r = Math.max(6, Math.round(size.width / 120));
      action.details.forEach(function (detail) {
        if (detail.box) layer.appendChild(svg('rect', { class: 'box', x: detail.box.x, y: detail.box.y, width: detail.box.width, height: detail.box.height }));
        if (detail.drag) layer.appendChild(svg('line', { class: 'drag', x1: detail.drag.from.x, y1: detail.drag.from.y, x2: detail.drag.to.x, y2: detail.drag.to.y }));
      });
      var points = action.details.filter(function (d) { return d.point && !/move/.test(d.label || ''); });
      if (points.length === 0) points = action.details.filter(function (d) { return d.point; }).slice(-1);
      points.forEach(function (detail) {
        var marker = svg('circle', { class: 'marker', cx: detail.point.x + 0.5, cy: detail.point.y + 0.5, r: r, 'data-x': detail.point.x, 'data-y': detail.point.y });
        var title = svg('title', {});
        title.textContent = (detail.label || 'point') + ' (' + detail.point.x + ', ' + detail.point.y + ')';
        marker.appendChild(title);
        layer.appendChild(marker);
      });
      box.appendChild(layer);
    }
    figure.appendChild(box);
    return figure;
  }

  // ---- the action list
  var list = document.getElementById('actions');
  var items = trace.actions.map(function (action, index) {
    var li = el('li', { 'data-id': String(action.id), 'data-index': String(index), title: action.title }, [
      el('span', { className: 'title', text: action.title }),
      el('span', { className: 'time', text: millis(action.duration) }),
    ]);
    if (action.error || (action.expectation && !action.expectation.pass)) li.classList.add('failed');
    if (action.parentId) li.classList.add('nested');
    li.addEventListener('click', function () { selectAction(index); });
    list.appendChild(li);
    return li;
  });
  if (trace.actions.length === 0) list.appendChild(el('li', { text: 'No actions were recorded.' }));

  // ---- the timeline and filmstrip
  var total = Math.max(1, trace.duration);
  var timeline = document.getElementById('timeline');
  var bars = trace.actions.map(function (action, index) {
    var bar = el('div', { className: 'bar' + (action.error ? ' failed' : ''), title: action.title });
    bar.style.left = (100 * action.start / total) + '%';
    bar.style.width = (100 * action.duration / total) + '%';
    bar.addEventListener('click', function (event) { event.stopPropagation(); selectAction(index); });
    timeline.appendChild(bar);
    return bar;
  });
  var cursor = el('div', { className: 'cursor' });
  timeline.appendChild(cursor);
  var scrub = document.getElementById('scrub');
  scrub.max = String(Math.max(0, trace.filmstrip.length - 1));
  scrub.disabled = trace.filmstrip.length === 0;
  var strip = document.getElementById('strip');
  var thumbs = trace.filmstrip.map(function (sample, index) {
    var img = el('img', { src: frameUrl(sample.frame), alt: 'at ' + seconds(sample.at), title: seconds(sample.at), 'data-index': String(index) });
    img.addEventListener('click', function () { selectFrame(index); });
    strip.appendChild(img);
    return img;
  });

  var selectedAction = -1;
  var selectedFrame = -1;
  var main = document.querySelector('main');
  var filmstripView = el('section', { id: 'filmstrip-frame' });

  function selectAction(index) {
    if (index < 0 || index >= trace.actions.length) return;
    selectedAction = index;
    var action = trace.actions[index];
    items.forEach(function (li, i) { li.classList.toggle('selected', i === index); });
    bars.forEach(function (bar, i) { bar.classList.toggle('selected', i === index); });
    items[index].scrollIntoView({ block: 'nearest' });
    main.textContent = '';
    main.appendChild(el('h2', { text: action.title, id: 'action-title' }));
    main.appendChild(el('div', { className: 'shots' }, [shot(action.before, 'Before', action, 'before'), shot(action.after, 'After', action, 'after')]));
    if (action.error) main.appendChild(el('div', { id: 'error', text: action.error }));
    var facts = el('dl', { className: 'facts' });
    function fact(name, value) { if (value !== undefined && value !== '') { facts.appendChild(el('dt', { text: name })); facts.appendChild(el('dd', { text: value })); } }
    fact('kind', action.kind);
    fact('start', seconds(action.start));
    fact('duration', millis(action.duration));
    if (action.keys !== undefined) fact('keys', action.keys);
    if (action.pointerBefore) fact('pointer', '(' + action.pointerBefore.x + ', ' + action.pointerBefore.y + ') → (' + action.pointerAfter.x + ', ' + action.pointerAfter.y + ')');
    action.details.forEach(function (d) {
      var what = d.drag ? '(' + d.drag.from.x + ', ' + d.drag.from.y + ') → (' + d.drag.to.x + ', ' + d.drag.to.y + ')' : d.box ? d.box.width + '×' + d.box.height + ' at (' + d.box.x + ', ' + d.box.y + ')' : d.point ? '(' + d.point.x + ', ' + d.point.y + ')' : '';
      fact(d.label || 'detail', what + ' at ' + seconds(d.at));
    });
    main.appendChild(facts);
    if (action.expectation) {
      var e = action.expectation;
      main.appendChild(el('div', { className: 'expectation' }, [
        e.expected ? shot(e.expected, 'Expected', undefined, 'expected') : null,
        e.actual ? shot(e.actual, 'Actual', undefined, 'actual') : null,
        e.diff ? shot(e.diff, 'Diff', undefined, 'diff') : null,
      ]));
    }
    if (trace.error && index === trace.actions.length - 1) main.appendChild(el('div', { id: 'test-error', text: 'The test failed: ' + trace.error }));
    main.appendChild(filmstripView);
    var frame = 0;
    trace.filmstrip.forEach(function (sample, i) { if (sample.at <= action.start + action.duration) frame = i; });
    if (trace.filmstrip.length > 0) selectFrame(frame, true);
  }

  function selectFrame(index, keepAction) {
    if (index < 0 || index >= trace.filmstrip.length) return;
    selectedFrame = index;
    var sample = trace.filmstrip[index];
    scrub.value = String(index);
    thumbs.forEach(function (img, i) { img.classList.toggle('current', i === index); });
    thumbs[index].scrollIntoView({ block: 'nearest', inline: 'nearest' });
    cursor.style.left = (100 * sample.at / total) + '%';
    filmstripView.textContent = '';
    filmstripView.appendChild(shot(sample.frame, 'Screen at ' + seconds(sample.at) + ' (filmstrip ' + (index + 1) + '/' + trace.filmstrip.length + ')', undefined, 'frame'));
    if (!keepAction && filmstripView.parentNode !== main) main.appendChild(filmstripView);
  }

  scrub.addEventListener('input', function () { selectFrame(Number(scrub.value)); });
  timeline.addEventListener('click', function (event) {
    var rect = timeline.getBoundingClientRect();
    var at = (event.clientX - rect.left) / rect.width * total;
    var best = 0;
    trace.filmstrip.forEach(function (sample, i) { if (sample.at <= at) best = i; });
    selectFrame(best);
  });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'ArrowDown') selectAction(Math.min(trace.actions.length - 1, selectedAction + 1));
    else if (event.key === 'ArrowUp') selectAction(Math.max(0, selectedAction - 1));
    else if (event.key === 'ArrowRight') selectFrame(Math.min(trace.filmstrip.length - 1, selectedFrame + 1));
    else if (event.key === 'ArrowLeft') selectFrame(Math.max(0, selectedFrame - 1));
    else return;
    event.preventDefault();
  });

  if (trace.error && trace.actions.length === 0) main.appendChild(el('div', { id: 'test-error', text: 'The test failed: ' + trace.error }));
  // Open where a failure is: the first failed action, else the last one.
  var failed = trace.actions.findIndex(function (a) { return a.error || (a.expectation && !a.expectation.pass); });
  if (trace.actions.length > 0) selectAction(failed >= 0 ? failed : trace.actions.length - 1);
  else if (trace.filmstrip.length > 0) selectFrame(0);
  document.body.setAttribute('data-ready', 'true');
})();
`;
