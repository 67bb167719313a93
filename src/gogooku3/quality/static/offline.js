/* gogooku3: what Great Expectations' Data Docs need from the CDN libraries they name (jQuery,
   bootstrap-table), so the stored report opens offline. `$(selector)` returns a set whose
   bootstrapTable({columns, data}) renders the table; show/hide-like calls act, any other call
   is a no-op that chains. */
(function () {
  "use strict";
  function nodesOf(arg) {
    if (typeof arg === "string") {
      try { return Array.from(document.querySelectorAll(arg)); } catch (e) { return []; }
    }
    if (arg && arg.nodeType) return [arg];
    if (arg === window) return [];
    return [];
  }
  function renderTable(table, options) {
    var columns = options.columns || [];
    var rows = options.data || [];
    var head = "<thead><tr>" + columns.map(function (c) { return "<th>" + (c.title || "") + "</th>"; }).join("") + "</tr></thead>";
    var body = rows.map(function (row) {
      var link = row._table_row_link_path;
      var open = link ? '<tr class="clickable-row" data-href="' + link + '">' : "<tr>";
      return open + columns.map(function (c) {
        var value = row[c.field];
        return "<td>" + (value === undefined || value === null ? "" : value) + "</td>";
      }).join("") + "</tr>";
    }).join("");
    table.innerHTML = head + "<tbody>" + body + "</tbody>";
    table.querySelectorAll("tr[data-href]").forEach(function (tr) {
      tr.addEventListener("click", function () { window.location.href = tr.getAttribute("data-href"); });
    });
  }
  function wrap(nodes) {
    var set = {
      nodes: nodes,
      bootstrapTable: function (options) {
        if (options && typeof options === "object") nodes.forEach(function (n) { renderTable(n, options); });
        return proxy;
      },
      ready: function (fn) {
        if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
        else fn();
        return proxy;
      },
      removeClass: function (name) { nodes.forEach(function (n) { n.classList.remove(name); }); return proxy; },
      addClass: function (name) { nodes.forEach(function (n) { n.classList.add(name); }); return proxy; },
      fadeIn: function () { nodes.forEach(function (n) { n.style.display = ""; }); return proxy; },
      fadeOut: function () { nodes.forEach(function (n) { n.style.display = "none"; }); return proxy; },
      parent: function () { return wrap(nodes.map(function (n) { return n.parentNode; }).filter(Boolean)); },
      on: function (event, fn) {
        if (typeof fn === "function" && event === "click") nodes.forEach(function (n) { n.addEventListener("click", fn); });
        return proxy;
      }
    };
    var proxy = new Proxy(set, {
      get: function (target, key) {
        if (key in target) return target[key];
        return function () { return proxy; };
      }
    });
    return proxy;
  }
  window.$ = window.jQuery = function (arg) {
    if (typeof arg === "function") return wrap([]).ready(arg);
    return wrap(arg === document ? [document] : nodesOf(arg));
  };
})();
