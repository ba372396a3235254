// The storefront works without this script; it only picks the Pay channel by screen width
// (wap pay on narrow screens, page pay otherwise) and asks before cancelling an order.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var narrow = window.matchMedia("(max-width: 640px)").matches;
  document.querySelectorAll("a#pay").forEach(function (link) {
    link.href = link.href.replace(/channel=[a-z]*/, "channel=" + (narrow ? "wap" : "page"));
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
});
