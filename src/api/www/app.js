/*
 * app.js - the Ingenium dashboard (plain JS, no library, no network beyond
 * the daemon that served it). Every data call sends the token as
 * "Authorization: Bearer TOKEN"; the token lives in sessionStorage only.
 * Pages: overview (GET /api/v1/status each second, equity charts),
 * orders & fills (/api/v1/orders, /api/v1/fills, then the SSE stream
 * /api/v1/events read with fetch: EventSource cannot send headers), risk
 * (/api/v1/risk), controls (the control endpoints, each confirmed in an
 * in-page dialog), history (/api/v1/history/{pnl,orders,fills}: the
 * history store, with a strategy filter and a date range). An endpoint
 * that answers 404 shows a message.
 */
'use strict';

(function () {
	var KEY = 'ingenium.token';
	var POLL_MS = 1000, RISK_MS = 2000, ORDERS_POLL_MS = 2000, EVENTS_RETRY_MS = 3000;
	var HIST_MAX = 600, LIST_MAX = 200, HISTORY_LIMIT = 1000;
	var TERMINAL = { filled: 1, canceled: 1, cancelled: 1, rejected: 1, expired: 1, denied: 1 };

	var S = {
		token: null, page: 'overview', status: null, timers: [],
		hist: {},            /* strategy -> [[t_ms, equity], ...] */
		orders: new Map(),   /* client_order_id -> ORDER */
		fills: [], denials: [],
		ordersOk: null, eventsOk: null, stream: null, ctlNames: '',
		histKind: 'pnl', histSeq: 0, histNames: ''
	};

	function $(id) { return document.getElementById(id); }

	/* An element: el('td', {class: 'num'}, 'text', child...). Text is set
	 * as text, never as markup. */
	function el(tag, attrs) {
		var e = document.createElement(tag), k, i, c;
		if (attrs) {
			for (k in attrs) {
				if (k === 'class') e.className = attrs[k];
				else if (k.indexOf('data-') === 0) e.setAttribute(k, attrs[k]);
				else e[k] = attrs[k];
			}
		}
		for (i = 2; i < arguments.length; i++) {
			c = arguments[i];
			if (c === null || c === undefined) continue;
			e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
		}
		return e;
	}

	function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

	function show(node, on) { node.hidden = !on; }

	/* A decimal string's sign class for a cell. */
	function signClass(v) {
		if (typeof v !== 'string') return 'num';
		return v.charAt(0) === '-' ? 'num neg' : (/^0(\.0*)?$/.test(v) ? 'num' : 'num pos');
	}

	function fmtTime(ns) {
		if (typeof ns !== 'number') return '';
		var d = new Date(Math.floor(ns / 1e6));
		return d.toISOString().replace('T', ' ').replace('Z', '');
	}

	function orNone(v) { return v === null || v === undefined ? '–' : String(v); }

	/* ------------------------------------------------------------ auth */

	function takeTokenFromUrl() {
		var u = new URL(window.location.href), t = u.searchParams.get('token');
		if (t === null) return;
		if (t !== '') sessionStorage.setItem(KEY, t);
		u.searchParams.delete('token');
		/* The token leaves the address bar (and the history entry). */
		history.replaceState(null, '', u.pathname + u.search + u.hash);
	}

	function showLogin(msg) {
		stopAll();
		S.token = null;
		sessionStorage.removeItem(KEY);
		show($('app'), false);
		show($('login'), true);
		$('login-msg').textContent = msg || '';
		$('token').value = '';
		$('token').focus();
	}

	function startApp() {
		show($('login'), false);
		show($('app'), true);
		S.hist = {}; S.orders = new Map(); S.fills = []; S.denials = []; S.ctlNames = '';
		S.ordersOk = null; S.eventsOk = null;
		setPage(S.page);
		pollStatus();
		S.timers.push(setInterval(pollStatus, POLL_MS));
		S.timers.push(setInterval(function () {
			if (S.page === 'risk') loadRisk();
		}, RISK_MS));
		S.timers.push(setInterval(function () {
			/* Without the event stream, the orders page polls instead. */
			if (S.page === 'orders' && S.eventsOk === false && S.ordersOk) loadOrders();
		}, ORDERS_POLL_MS));
		loadOrders().then(startEvents);
	}

	function stopAll() {
		S.timers.forEach(clearInterval);
		S.timers = [];
		if (S.stream) { S.stream.abort(); S.stream = null; }
	}

	/* fetch with the token. Resolves to {status, body} (body: parsed JSON
	 * or null; status 0: no answer). A 401 signs out. */
	function api(path, method) {
		if (!S.token) return Promise.resolve({ status: 0, body: null });
		return fetch(path, {
			method: method || 'GET', cache: 'no-store', credentials: 'omit',
			headers: { Authorization: 'Bearer ' + S.token }
		}).then(function (r) {
			return r.text().then(function (t) {
				var body = null;
				try { body = t ? JSON.parse(t) : null; } catch (e) { body = null; }
				if (r.status === 401) showLogin('The token was refused (401): sign in again.');
				return { status: r.status, body: body };
			});
		}, function () {
			return { status: 0, body: null };
		});
	}

	/* -------------------------------------------------------- overview */

	function pollStatus() {
		return api('/api/v1/status').then(function (r) {
			var banner = $('conn-msg');
			if (r.status === 200 && r.body) {
				show(banner, false);
				S.status = r.body;
				renderHeader(r.body.trading_state, r.body.kill_switch);
				renderOverview(r.body);
				renderControls(r.body);
				renderHistoryNames(r.body);
			} else if (r.status !== 401) {
				banner.textContent = r.status === 0 ? 'The daemon does not answer; retrying.'
					: 'Status: ' + r.status + (r.body && r.body.error ? ' ' + r.body.error : '');
				show(banner, true);
			}
		});
	}

	function renderHeader(state, kill) {
		var s = $('hdr-state'), k = $('hdr-kill');
		s.textContent = 'trading: ' + state;
		s.className = 'badge ' + state;
		k.textContent = kill ? 'KILL SWITCH ENGAGED' : 'kill switch off';
		k.className = kill ? 'kill engaged' : 'kill';
		k.setAttribute('data-engaged', kill ? 'true' : 'false');
	}

	function rejectsText(rj) {
		var n = 0, parts = [], k;
		for (k in rj) { n += rj[k]; parts.push(k + ' ' + rj[k]); }
		return { n: n, title: parts.join(', ') };
	}

	function renderOverview(st) {
		var tb = $('ov-table').querySelector('tbody'), now = Date.now();
		var sum = $('ov-summary'), v = st.venue || {};
		clear(sum);
		sum.appendChild(el('div', null, 'orders', el('b', null, st.orders)));
		sum.appendChild(el('div', null, 'fills', el('b', null, st.fills)));
		sum.appendChild(el('div', null, 'rejects', el('b', null, rejectsText(st.rejects || {}).n)));
		sum.appendChild(el('div', null, 'venue', el('b', null, (v.kind || '?') +
			(v.state ? ' (' + v.state + ')' : '') + (v.reconciled === false ? ', not reconciled' : ''))));
		sum.appendChild(el('div', null, 'threading', el('b', null, st.threading)));
		$('hdr-info').textContent = 'v' + st.version + ' · up ' + st.uptime_s + ' s · snapshot ' +
			(st.snapshot ? st.snapshot.seq + ', ' + st.snapshot.age_ms + ' ms old' : '?');
		clear(tb);
		(st.strategies || []).forEach(function (s) {
			var pos = (s.positions || []).map(function (p) {
				return p.symbol + ' ' + p.qty + (p.qty !== '0' ? ' @ ' + p.avg_price : '');
			}).join('; ');
			var rj = rejectsText(s.rejects || {});
			var tr = el('tr', { 'data-name': s.name },
				el('td', null, s.name), el('td', { 'data-col': 'state' }, s.state),
				el('td', null, pos), el('td', { class: 'num' }, s.cash),
				el('td', { class: 'num', 'data-col': 'equity' }, s.equity),
				el('td', { class: signClass(s.realized_pnl) }, s.realized_pnl),
				el('td', { class: signClass(s.unrealized_pnl) }, s.unrealized_pnl),
				el('td', { class: 'num' }, s.fees),
				el('td', { class: 'num', 'data-col': 'orders' }, s.orders),
				el('td', { class: 'num', 'data-col': 'fills' }, s.fills),
				el('td', { class: 'num' }, s.open_orders),
				el('td', { class: 'num', title: rj.title }, rj.n));
			tb.appendChild(tr);
			var h = S.hist[s.name] || (S.hist[s.name] = []);
			h.push([now, parseFloat(s.equity)]);
			if (h.length > HIST_MAX) h.shift();
		});
		renderCharts(st);
	}

	function renderCharts(st) {
		var box = $('ov-charts');
		(st.strategies || []).forEach(function (s) {
			var id = 'chart-' + s.name, wrap = null, i;
			for (i = 0; i < box.children.length; i++)
				if (box.children[i].getAttribute('data-name') === s.name) wrap = box.children[i];
			if (!wrap) {
				wrap = el('div', { class: 'chart', 'data-name': s.name },
					el('div', { class: 'title' }, s.name), el('div', { class: 'info' }),
					el('canvas', { id: id }));
				box.appendChild(wrap);
			}
			var pnl = parseFloat(s.realized_pnl) + parseFloat(s.unrealized_pnl) - parseFloat(s.fees);
			wrap.children[1].textContent = 'equity ' + s.equity + ' · net PnL ' +
				(isFinite(pnl) ? pnl.toFixed(2) : '?');
			drawChart(wrap.children[2], S.hist[s.name] || []);
		});
	}

	/* A line chart of pts ([t_ms, value]) on canvas c, with its range. */
	function drawChart(c, pts) {
		var dpr = window.devicePixelRatio || 1, w = 420, h = 160, pad = 8, lab = 70;
		if (c.width !== w * dpr) { c.width = w * dpr; c.height = h * dpr; }
		var g = c.getContext('2d');
		if (!g) return;
		g.setTransform(dpr, 0, 0, dpr, 0, 0);
		g.clearRect(0, 0, w, h);
		g.font = '11px system-ui, sans-serif';
		g.fillStyle = '#5b6570';
		if (pts.length < 2) { g.fillText('collecting…', pad, h / 2); return; }
		var lo = Infinity, hi = -Infinity, t0 = pts[0][0], t1 = pts[pts.length - 1][0];
		pts.forEach(function (p) { if (p[1] < lo) lo = p[1]; if (p[1] > hi) hi = p[1]; });
		if (!isFinite(lo) || !isFinite(hi)) return;
		if (hi - lo < 1e-9) { hi += 1; lo -= 1; }
		var x = function (t) { return lab + (t1 > t0 ? (t - t0) / (t1 - t0) : 1) * (w - lab - pad); };
		var y = function (v) { return pad + (hi - v) / (hi - lo) * (h - 2 * pad); };
		g.fillText(hi.toFixed(2), 2, pad + 8);
		g.fillText(lo.toFixed(2), 2, h - pad);
		g.strokeStyle = '#d5d9de';
		g.strokeRect(lab, pad, w - lab - pad, h - 2 * pad);
		g.strokeStyle = '#1d3557';
		g.lineWidth = 1.5;
		g.beginPath();
		pts.forEach(function (p, i) { if (i) g.lineTo(x(p[0]), y(p[1])); else g.moveTo(x(p[0]), y(p[1])); });
		g.stroke();
	}

	/* ------------------------------------------------- orders & fills */

	var ORDER_COLS = ['client_order_id', 'venue_order_id', 'strategy', 'symbol', 'side', 'type',
		'tif', 'qty', 'price', 'stop_price', 'filled_qty', 'state', 'reject_reason', 'updated_ns'];
	var FILL_COLS = ['ts_ns', 'trade_id', 'client_order_id', 'strategy', 'symbol', 'side', 'qty',
		'price', 'fee', 'liquidity'];
	var DENIAL_COLS = ['ts_ns', 'strategy', 'symbol', 'side', 'qty', 'price', 'reason', 'client_order_id'];

	function cell(k, v) {
		if (/_ns$/.test(k)) return el('td', null, fmtTime(v));
		return el('td', { class: /qty|price|fee/.test(k) ? 'num' : '' }, orNone(v));
	}

	function fillTable(id, cols, rows) {
		var t = $(id), th = t.querySelector('thead'), tb = t.querySelector('tbody');
		if (!th.firstChild) th.appendChild(el.apply(null, ['tr', null].concat(cols.map(function (c) {
			return el('th', null, c.replace(/_ns$/, ''));
		}))));
		clear(tb);
		rows.forEach(function (r) {
			tb.appendChild(el.apply(null, ['tr', null].concat(cols.map(function (c) { return cell(c, r[c]); }))));
		});
	}

	function renderOrders() {
		var open = [], done = [];
		S.orders.forEach(function (o) { (TERMINAL[o.state] ? done : open).push(o); });
		var newest = function (a, b) { return (b.updated_ns || 0) - (a.updated_ns || 0); };
		open.sort(newest); done.sort(newest);
		fillTable('open-orders', ORDER_COLS, open);
		fillTable('recent-orders', ORDER_COLS, done.slice(0, 100));
		fillTable('fills', FILL_COLS, S.fills);
		fillTable('denials', DENIAL_COLS, S.denials);
	}

	function unavailable(what, status) {
		return status === 404 ? what + ' is not available on this daemon (404).'
			: what + ': ' + (status === 0 ? 'no answer' : 'status ' + status) + '.';
	}

	/* The order and fill lists once; returns a promise. */
	function loadOrders() {
		return Promise.all([api('/api/v1/orders'), api('/api/v1/fills?limit=' + LIST_MAX)]).then(function (rs) {
			var o = rs[0], f = rs[1], msgs = [];
			if (o.status === 200 && o.body) {
				S.ordersOk = true;
				S.orders = new Map();
				(o.body.open || []).concat(o.body.recent || []).forEach(function (x) {
					S.orders.set(x.client_order_id, x);
				});
			} else if (o.status !== 401) {
				S.ordersOk = false;
				msgs.push(unavailable('The order list', o.status));
			}
			if (f.status === 200 && f.body) S.fills = (f.body.fills || []).slice(0, LIST_MAX);
			else if (f.status !== 401) msgs.push(unavailable('The fill list', f.status));
			$('orders-msg').textContent = msgs.join(' ');
			renderOrders();
		});
	}

	function onEvent(type, data) {
		var d;
		try { d = JSON.parse(data); } catch (e) { return; }
		if (!d || typeof d !== 'object') return;
		if (type === 'order' && d.client_order_id !== undefined) {
			S.orders.set(d.client_order_id, d);
			var done = [];
			S.orders.forEach(function (o, k) { if (TERMINAL[o.state]) done.push([o.updated_ns || 0, k]); });
			if (done.length > 100) {
				done.sort(function (a, b) { return a[0] - b[0]; });
				done.slice(0, done.length - 100).forEach(function (p) { S.orders.delete(p[1]); });
			}
		} else if (type === 'fill') {
			S.fills.unshift(d);
			if (S.fills.length > LIST_MAX) S.fills.length = LIST_MAX;
		} else if (type === 'denial') {
			S.denials.unshift(d);
			if (S.denials.length > LIST_MAX) S.denials.length = LIST_MAX;
		} else if (type === 'state' && (d.strategy === null || d.strategy === undefined)) {
			renderHeader(d.trading_state, d.kill_switch);
		}
		if (S.page === 'orders') renderOrders();
	}

	/* Parses the SSE text in buf: dispatches each complete message,
	 * returns what is left (an incomplete message). */
	function parseSse(buf) {
		var end;
		buf = buf.replace(/\r\n?/g, '\n');
		while ((end = buf.indexOf('\n\n')) >= 0) {
			var block = buf.slice(0, end), type = 'message', data = [];
			buf = buf.slice(end + 2);
			block.split('\n').forEach(function (line) {
				if (line === '' || line.charAt(0) === ':') return;
				var i = line.indexOf(':'), f = i < 0 ? line : line.slice(0, i);
				var v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
				if (f === 'event') type = v;
				else if (f === 'data') data.push(v);
			});
			if (data.length) onEvent(type, data.join('\n'));
		}
		return buf;
	}

	function setEventsStatus(t) { $('events-status').textContent = t; }

	function startEvents() {
		if (!S.token || S.stream) return;
		var ctl = new AbortController(), dec = new TextDecoder(), buf = '';
		S.stream = ctl;
		fetch('/api/v1/events', {
			cache: 'no-store', credentials: 'omit', signal: ctl.signal,
			headers: { Authorization: 'Bearer ' + S.token, Accept: 'text/event-stream' }
		}).then(function (r) {
			if (r.status === 401) { showLogin('The token was refused (401): sign in again.'); return null; }
			if (!r.ok || !r.body) {
				S.eventsOk = false;
				setEventsStatus(unavailable('The live event stream', r.status) +
					(S.ordersOk ? ' The lists are polled every ' + ORDERS_POLL_MS / 1000 + ' s instead.' : ''));
				r.body && r.body.cancel().catch(function () {});
				S.stream = null;
				return null;
			}
			S.eventsOk = true;
			setEventsStatus('Live: following the event stream.');
			var reader = r.body.getReader();
			var pump = function () {
				return reader.read().then(function (x) {
					if (x.done) return null;
					buf = parseSse(buf + dec.decode(x.value, { stream: true }));
					return pump();
				});
			};
			return pump().then(function () { return 'ended'; });
		}).catch(function () {
			return 'ended';
		}).then(function (how) {
			if (S.stream !== ctl) return; /* signed out or replaced */
			S.stream = null;
			if (how === 'ended' && S.token) {
				setEventsStatus('The event stream ended; reconnecting…');
				setTimeout(function () { loadOrders().then(startEvents); }, EVENTS_RETRY_MS);
			}
		});
	}

	/* ------------------------------------------------------------ risk */

	function num(v) { return v === null || v === undefined ? NaN : parseFloat(v); }

	function loadRisk() {
		return api('/api/v1/risk').then(function (r) {
			var body = $('risk-body');
			if (r.status === 401) return;
			if (r.status !== 200 || !r.body) {
				$('risk-msg').textContent = unavailable('The risk view', r.status);
				clear(body);
				return;
			}
			$('risk-msg').textContent = '';
			clear(body);
			body.appendChild(el('p', null, 'trading: ' + r.body.trading_state + ' · kill switch ' +
				(r.body.kill_switch ? 'ENGAGED' : 'off')));
			(r.body.strategies || []).forEach(function (s) {
				var t = el('table', { class: 'grid' }, el('thead', null, el('tr', null,
					el('th', null, 'limit'), el('th', null, 'symbol'), el('th', null, 'value'),
					el('th', null, 'use'), el('th', null, 'use / limit'))));
				var tb = el('tbody');
				(s.limits || []).forEach(function (l) {
					var v = num(l.value), u = num(l.use), frac = NaN, bar = '';
					if (isFinite(v) && isFinite(u) && v > 0) frac = Math.abs(u) / v;
					if (isFinite(frac)) {
						var fill = el('div');
						fill.style.width = Math.min(100, frac * 100).toFixed(1) + '%';
						bar = el('div', { class: 'bar' + (frac >= 1 ? ' bad' : frac >= 0.8 ? ' warn' : ''),
							title: (frac * 100).toFixed(1) + '%' }, fill);
					}
					tb.appendChild(el('tr', null, el('td', null, l.limit), el('td', null, orNone(l.symbol)),
						el('td', { class: 'num' }, l.value === null ? 'off' : String(l.value)),
						el('td', { class: 'num' }, orNone(l.use)), el('td', null, bar)));
				});
				t.appendChild(tb);
				body.appendChild(el('h2', null, s.name + ' (' + s.state + (s.paused ? ', paused' : '') + ')'));
				body.appendChild(t);
			});
		});
	}

	/* -------------------------------------------------------- controls */

	/* The in-page confirmation: resolves true (confirm) or false. */
	function confirmBox(text) {
		return new Promise(function (resolve) {
			var box = $('confirm'), ok = $('confirm-ok'), no = $('confirm-cancel');
			var done = function (v) {
				ok.onclick = null; no.onclick = null;
				show(box, false);
				resolve(v);
			};
			$('confirm-text').textContent = text;
			ok.onclick = function () { done(true); };
			no.onclick = function () { done(false); };
			show(box, true);
			no.focus();
		});
	}

	function control(label, method, path) {
		return confirmBox(label + '?').then(function (yes) {
			var res = $('ctl-result');
			if (!yes) { res.textContent = label + ': cancelled.'; res.className = 'result'; return; }
			res.textContent = label + ': sending…';
			res.className = 'result';
			return api(path, method).then(function (r) {
				if (r.status === 401) return;
				var ok = r.status === 200;
				res.textContent = label + ': ' + (r.status || 'no answer') + ' ' +
					(ok ? 'done' + (r.body && r.body.id !== undefined ? ' (id ' + r.body.id + ')' : '')
						: (r.body && r.body.error ? r.body.error : 'failed'));
				res.className = 'result ' + (ok ? 'ok' : 'err');
				res.setAttribute('data-status', String(r.status));
				pollStatus();
			});
		});
	}

	function renderControls(st) {
		var tb = $('ctl-table').querySelector('tbody');
		var names = (st.strategies || []).map(function (s) { return s.name; }).join('\n');
		if (names !== S.ctlNames) {
			/* Rebuilt only when the strategies change, so a click never
			 * lands on a replaced button. */
			S.ctlNames = names;
			clear(tb);
			(st.strategies || []).forEach(function (s) {
				var p = '/api/v1/strategies/' + encodeURIComponent(s.name) + '/';
				var b = function (act, label) {
					var btn = el('button', { type: 'button', 'data-action': act, 'data-name': s.name }, label);
					btn.addEventListener('click', function () {
						control(label + ' ' + s.name, 'POST', p + act);
					});
					return btn;
				};
				tb.appendChild(el('tr', { 'data-name': s.name }, el('td', null, s.name),
					el('td', { 'data-col': 'state' }), el('td', { 'data-col': 'open', class: 'num' }),
					el('td', null, b('pause', 'Pause'), b('resume', 'Resume'),
						b('cancel-all', 'Cancel all'), b('reset', 'Reset'))));
			});
		}
		(st.strategies || []).forEach(function (s, i) {
			var tr = tb.children[i];
			if (!tr) return;
			tr.querySelector('[data-col=state]').textContent = s.state;
			tr.querySelector('[data-col=open]').textContent = s.open_orders;
		});
	}

	/* --------------------------------------------------------- history */

	/* Columns shown per history query (the endpoint's row keys). */
	var HISTORY_COLS = {
		pnl: ['day', 'strategy', 'realized', 'fees', 'net', 'trades', 'end_position'],
		orders: ['created', 'strategy', 'client_order_id', 'symbol', 'side', 'type', 'tif', 'qty',
			'price', 'filled_qty', 'state', 'reject_reason', 'updated'],
		fills: ['at', 'strategy', 'trade_id', 'client_order_id', 'symbol', 'side', 'qty', 'price',
			'fee', 'fee_currency', 'liquidity']
	};
	var HISTORY_SIGNED = { realized: 1, net: 1 };
	var HISTORY_NUM = /^(qty|price|fee|fees|filled_qty|trades|end_position|realized|net)$/;

	/* The strategy filter's options: "all" and the daemon's strategies. */
	function renderHistoryNames(st) {
		var sel = $('hist-strategy');
		var names = (st.strategies || []).map(function (s) { return s.name; });
		if (names.join('\n') === S.histNames) return;
		S.histNames = names.join('\n');
		var keep = sel.value;
		clear(sel);
		sel.appendChild(el('option', { value: '' }, 'all'));
		names.forEach(function (n) { sel.appendChild(el('option', { value: n }, n)); });
		sel.value = names.indexOf(keep) >= 0 ? keep : '';
	}

	/* The query string of the filters. A "to" date takes that whole day. */
	function historyQuery() {
		var q = ['limit=' + HISTORY_LIMIT], s = $('hist-strategy').value;
		var f = $('hist-from').value, t = $('hist-to').value;
		if (s) q.push('strategy=' + encodeURIComponent(s));
		if (f) q.push('from=' + encodeURIComponent(f));
		if (t) q.push('to=' + encodeURIComponent(t + 'T23:59:59.999999999Z'));
		return q.join('&');
	}

	function setHistoryKind(kind) {
		if (!HISTORY_COLS[kind]) kind = 'pnl';
		S.histKind = kind;
		document.querySelectorAll('.htab').forEach(function (b) {
			b.classList.toggle('current', b.getAttribute('data-kind') === kind);
		});
	}

	function renderHistory(kind, body) {
		var t = $('hist-table'), th = t.querySelector('thead'), tb = t.querySelector('tbody');
		var cols = HISTORY_COLS[kind], rows = body.rows || [];
		t.setAttribute('data-kind', kind);
		clear(th);
		clear(tb);
		th.appendChild(el.apply(null, ['tr', null].concat(cols.map(function (c) {
			return el('th', null, c.replace(/_/g, ' '));
		}))));
		rows.forEach(function (r) {
			tb.appendChild(el.apply(null, ['tr', null].concat(cols.map(function (c) {
				var cls = HISTORY_SIGNED[c] ? signClass(r[c]) : HISTORY_NUM.test(c) ? 'num' : '';
				return el('td', { class: cls, 'data-col': c }, orNone(r[c]));
			}))));
		});
		$('hist-info').textContent = rows.length + ' row' + (rows.length === 1 ? '' : 's') +
			(body.truncated ? ' (the ' + (kind === 'pnl' ? 'last ' : 'newest ') + body.limit + ')' : '') +
			' · daemon ' + body.daemon_id + (rows.length === 0 ? ' · nothing in this range' : '');
	}

	/* The current query once; a newer load wins over a slower older one. */
	function loadHistory() {
		var kind = S.histKind, seq = ++S.histSeq;
		$('hist-msg').textContent = '';
		$('hist-info').textContent = 'Loading…';
		return api('/api/v1/history/' + kind + '?' + historyQuery()).then(function (r) {
			if (seq !== S.histSeq || r.status === 401) return;
			if (r.status === 200 && r.body) {
				renderHistory(kind, r.body);
				return;
			}
			var err = r.body && r.body.error ? r.body.error : '';
			clear($('hist-table').querySelector('thead'));
			clear($('hist-table').querySelector('tbody'));
			$('hist-table').setAttribute('data-kind', '');
			$('hist-info').textContent = '';
			$('hist-msg').textContent = r.status === 404 ? 'History is not available: ' +
				(err || 'this daemon has no history endpoint') + ' (404).'
				: r.status === 503 ? 'The history store cannot be read (503): ' + err
				: r.status === 400 ? 'Bad filter (400): ' + err
				: unavailable('History', r.status);
		});
	}

	/* ------------------------------------------------------ navigation */

	var PAGES = ['overview', 'orders', 'risk', 'controls', 'history'];

	function setPage(p) {
		if (PAGES.indexOf(p) < 0) p = 'overview';
		S.page = p;
		/* The page is in the address (#orders): a reload or a bookmark
		 * comes back to it. */
		if (window.location.hash !== '#' + p)
			history.replaceState(null, '', window.location.pathname + window.location.search + '#' + p);
		PAGES.forEach(function (n) {
			show($('page-' + n), n === p);
		});
		document.querySelectorAll('.tab').forEach(function (t) {
			t.classList.toggle('current', t.getAttribute('data-page') === p);
		});
		if (p === 'orders') renderOrders();
		if (p === 'risk') loadRisk();
		if (p === 'history') loadHistory();
	}

	function init() {
		takeTokenFromUrl();
		if (window.location.hash.length > 1) S.page = window.location.hash.slice(1);
		window.addEventListener('hashchange', function () {
			setPage(window.location.hash.slice(1));
		});
		document.querySelectorAll('.tab').forEach(function (t) {
			t.addEventListener('click', function () { setPage(t.getAttribute('data-page')); });
		});
		$('logout').addEventListener('click', function () { showLogin('Signed out.'); });
		$('login-form').addEventListener('submit', function (ev) {
			ev.preventDefault();
			var t = $('token').value.trim();
			if (!t) return;
			sessionStorage.setItem(KEY, t);
			S.token = t;
			startApp();
		});
		$('ctl-kill-engage').addEventListener('click', function () {
			control('Engage the kill switch (cancels every open order)', 'POST', '/api/v1/kill-switch');
		});
		$('ctl-kill-clear').addEventListener('click', function () {
			control('Clear the kill switch', 'DELETE', '/api/v1/kill-switch');
		});
		$('ctl-reset-all').addEventListener('click', function () {
			control('Reset every strategy\'s drawdown / daily-loss breach', 'POST', '/api/v1/reset');
		});
		document.querySelectorAll('.htab').forEach(function (b) {
			b.addEventListener('click', function () {
				setHistoryKind(b.getAttribute('data-kind'));
				loadHistory();
			});
		});
		$('hist-form').addEventListener('submit', function (ev) {
			ev.preventDefault();
			loadHistory();
		});
		['hist-strategy', 'hist-from', 'hist-to'].forEach(function (id) {
			$(id).addEventListener('change', function () { loadHistory(); });
		});
		setHistoryKind(S.histKind);
		document.addEventListener('keydown', function (ev) {
			if (ev.key === 'Escape' && !$('confirm').hidden) $('confirm-cancel').click();
		});
		S.token = sessionStorage.getItem(KEY);
		if (S.token) startApp();
		else showLogin('');
	}

	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
	else init();
})();
