/* closedloop capture snippet: first-party visitor id, first and latest touch, events, form fields.
 * Plain ES2017, no dependencies. Paste:
 *   <script async src="https://YOUR-CLOSEDLOOP/t/closedloop.js" data-site-key="pk_..."></script>
 * Optional attributes: data-cookie-domain=".example.com", data-capture-forms="all" (send every
 * form to closedloop too; by default only forms marked data-closedloop are sent, all get hidden fields).
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-site-key]");
  if (!script || (window.closedloop && window.closedloop.loaded)) return;
  var KEY = script.getAttribute("data-site-key") || "";
  var BASE = new URL(script.src, location.href).origin;
  var EVENTS_URL = BASE + "/t/events?k=" + encodeURIComponent(KEY);
  var FORM_URL = BASE + "/t/form?k=" + encodeURIComponent(KEY);
  var IDENTIFY_URL = BASE + "/t/identify?k=" + encodeURIComponent(KEY);
  var COOKIE_DOMAIN = script.getAttribute("data-cookie-domain");
  var CAPTURE_ALL = script.getAttribute("data-capture-forms") === "all";
  var PARAMS = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "gclid", "gbraid",
    "wbraid", "fbclid", "msclkid", "ttclid", "li_fat_id", "line_click_id"];
  var CLICK_IDS = PARAMS.slice(5);
  var VID = "cl_vid", FIRST = "cl_first", LAST = "cl_last", QUEUE = "cl_queue_" + KEY;
  var MAX_QUEUE = 500, BATCH = 50, DAYS = 400;
  var retryDelay = 2000, retryTimer = null, sending = false, batchSize = BATCH;

  function store(name, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(name);
      window.localStorage.setItem(name, value);
    } catch (e) { /* storage disabled: the cookie still carries the visitor id */ }
    return null;
  }
  function readJSON(name, fallback) {
    try { return JSON.parse(store(name) || "null") || fallback; } catch (e) { return fallback; }
  }
  function getCookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : null;
  }
  function setCookie(name, value) {
    var parts = [name + "=" + encodeURIComponent(value), "path=/", "max-age=" + DAYS * 86400, "SameSite=Lax"];
    if (COOKIE_DOMAIN) parts.push("domain=" + COOKIE_DOMAIN);
    if (location.protocol === "https:") parts.push("Secure");
    document.cookie = parts.join("; ");
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }
  function visitorId() {
    var vid = getCookie(VID) || store(VID);
    if (!vid || !/^[A-Za-z0-9_.:-]{8,64}$/.test(vid)) vid = uuid();
    setCookie(VID, vid); // refreshed on every page so the cookie lives as long as browsers allow
    store(VID, vid);
    return vid;
  }
  function hostOf(url) {
    try { return new URL(url).host; } catch (e) { return ""; }
  }

  // ---- first and latest touch, from the landing URL (first touch is never overwritten)
  function landingTouch() {
    var query = new URLSearchParams(location.search);
    var values = {};
    var found = false;
    PARAMS.forEach(function (p) {
      var v = query.get(p);
      if (v) { values[p] = v.slice(0, 255); found = true; }
    });
    var ref = document.referrer;
    var external = ref && hostOf(ref) !== location.host;
    if (!found && !external) return null;
    return { values: values, ts: Date.now(), landing: location.href, ref: external ? ref : "" };
  }
  var touch = landingTouch();
  if (touch) {
    if (!readJSON(FIRST, null)) store(FIRST, JSON.stringify(touch));
    store(LAST, JSON.stringify(touch));
  }

  // ---- the event queue: kept in localStorage until the server answers, retried with the same ids
  function queue() { return readJSON(QUEUE, []); }
  function saveQueue(items) { store(QUEUE, JSON.stringify(items.slice(-MAX_QUEUE))); }
  function enqueue(event) {
    var items = queue();
    items.push(event);
    saveQueue(items);
    flush();
  }
  function drop(ids) {
    saveQueue(queue().filter(function (e) { return ids.indexOf(e.id) < 0; }));
  }
  function scheduleRetry() {
    if (retryTimer) return;
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 60000);
  }
  function flush() {
    if (sending) return;
    var batch = queue().slice(0, batchSize);
    if (!batch.length) return;
    sending = true;
    var body = JSON.stringify({ vid: visitorId(), events: batch });
    fetch(EVENTS_URL, {
      method: "POST", body: body, keepalive: true, mode: "cors", credentials: "include",
      headers: { "Content-Type": "text/plain;charset=UTF-8" }
    }).then(function (r) {
      sending = false;
      if (r.status === 413 && batch.length > 1) {
        // Too large for the server: send the same events in smaller batches.
        batchSize = Math.max(1, Math.floor(batch.length / 2));
        flush();
        return;
      }
      // 2xx: committed. Other 4xx (not 408/429): the server kept them in quarantine; resending cannot help.
      if (r.ok || (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429)) {
        drop(batch.map(function (e) { return e.id; }));
        retryDelay = 2000;
        if (queue().length) flush();
      } else {
        scheduleRetry();
      }
    }).catch(function () { sending = false; scheduleRetry(); });
  }
  function beaconFlush() {
    // The page is going away: hand what is left to the browser. The events stay queued and are
    // sent again on the next page with the same ids, which the server counts once.
    var batch = queue().slice(0, BATCH);
    if (!batch.length || !navigator.sendBeacon) return;
    var blob = new Blob([JSON.stringify({ vid: visitorId(), events: batch })], { type: "text/plain;charset=UTF-8" });
    navigator.sendBeacon(EVENTS_URL, blob);
  }

  function event(type, extra) {
    var e = { id: uuid(), type: type, ts: Date.now(), url: location.href.slice(0, 2000),
      ref: document.referrer ? document.referrer.slice(0, 2000) : undefined };
    if (extra) Object.keys(extra).forEach(function (k) { e[k] = extra[k]; });
    return e;
  }

  // ---- hidden fields on every form, so a submission carries the visitor and its touches
  var FIELD_PREFIX = "cl_";
  function hidden(form, name, value) {
    var input = form.querySelector('input[name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value == null ? "" : String(value);
  }
  function honeypot(form) {
    if (form.querySelector('input[name="cl_hp"]')) return;
    var trap = document.createElement("input");
    trap.type = "text";
    trap.name = "cl_hp";
    trap.tabIndex = -1;
    trap.autocomplete = "off";
    trap.setAttribute("aria-hidden", "true");
    trap.style.cssText = "position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden;";
    form.appendChild(trap);
  }
  function decorate(form) {
    var first = readJSON(FIRST, {}) || {};
    var last = readJSON(LAST, {}) || {};
    hidden(form, FIELD_PREFIX + "vid", visitorId());
    if (!form.getAttribute("data-cl-eid")) form.setAttribute("data-cl-eid", uuid());
    hidden(form, FIELD_PREFIX + "eid", form.getAttribute("data-cl-eid"));
    hidden(form, FIELD_PREFIX + "page", location.href);
    hidden(form, FIELD_PREFIX + "ref", document.referrer);
    hidden(form, FIELD_PREFIX + "first_ts", first.ts ? new Date(first.ts).toISOString() : "");
    hidden(form, FIELD_PREFIX + "first_landing", first.landing || "");
    hidden(form, FIELD_PREFIX + "first_ref", first.ref || "");
    PARAMS.forEach(function (p) {
      hidden(form, FIELD_PREFIX + "first_" + p, (first.values || {})[p] || "");
      hidden(form, FIELD_PREFIX + "last_" + p, (last.values || {})[p] || "");
    });
    honeypot(form);
  }
  function decorateAll() {
    Array.prototype.forEach.call(document.forms, decorate);
  }
  function postsToCloseloop(form) {
    return (form.action || "").indexOf(BASE + "/t/form") === 0;
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form || form.tagName !== "FORM") return;
    decorate(form);
    if (postsToCloseloop(form) || !(CAPTURE_ALL || form.hasAttribute("data-closedloop"))) return;
    var data = {};
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && !/password|card|cvv|cvc/i.test(name)) data[name] = value;
    });
    fetch(FORM_URL, {
      method: "POST", body: JSON.stringify(data), keepalive: true, mode: "cors", credentials: "include",
      headers: { "Content-Type": "text/plain;charset=UTF-8" }
    }).catch(function () { /* the site's own handler still receives the form with its hidden fields */ });
  }, true);

  // ---- public API
  window.closedloop = {
    loaded: true,
    visitorId: visitorId,
    track: function (name, props) {
      enqueue(event("event", { name: String(name).slice(0, 100), props: props || undefined }));
    },
    identify: function (identity) {
      var body = Object.assign({ cl_vid: visitorId() }, typeof identity === "string" ? { email: identity } : identity);
      return fetch(IDENTIFY_URL, {
        method: "POST", body: JSON.stringify(body), keepalive: true, mode: "cors", credentials: "include",
        headers: { "Content-Type": "text/plain;charset=UTF-8" }
      });
    },
    flush: flush,
    pending: function () { return queue().length; },
    decorate: decorateAll
  };

  // A page view is a marketing touch when it lands from a campaign, an ad click or another site,
  // or starts a new visit (30 minutes without activity); clicks within a visit are not touches.
  var SEEN = "cl_seen_" + KEY;
  var lastSeen = Number(store(SEEN) || 0);
  store(SEEN, String(Date.now()));
  var clicked = CLICK_IDS.some(function (p) { return touch && touch.values[p]; });
  if (touch || !lastSeen || Date.now() - lastSeen > 30 * 60000) enqueue(event(clicked ? "ad_click" : "page_view"));
  else flush();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", decorateAll);
  else decorateAll();
  if (window.MutationObserver) {
    new MutationObserver(function (records) {
      records.forEach(function (r) {
        Array.prototype.forEach.call(r.addedNodes, function (n) {
          if (n.tagName === "FORM") decorate(n);
          else if (n.querySelectorAll) Array.prototype.forEach.call(n.querySelectorAll("form"), decorate);
        });
      });
    }).observe(document.documentElement, { childList: true, subtree: true });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") beaconFlush();
  });
  window.addEventListener("pagehide", beaconFlush);
  window.addEventListener("online", flush);
})();
