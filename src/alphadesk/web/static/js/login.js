"use strict";
// The login page: carry ?next= into the form and say why the last attempt failed.
(function () {
  const q = new URLSearchParams(location.search);
  const next = q.get("next");
  if (next && next.startsWith("/") && !next.startsWith("//")) document.getElementById("next").value = next;
  const err = document.getElementById("error");
  if (q.get("error") === "bad") { err.textContent = "Wrong user name or password."; err.classList.remove("hidden"); }
  if (q.get("error") === "limited") {
    err.textContent = "Too many failed logins; try again in " + (q.get("retry") || "a few") + " s.";
    err.classList.remove("hidden");
  }
})();
