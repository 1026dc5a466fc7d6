// "Older posts" in place: fetch the link's page, append its posts, take its link.
// Without JavaScript the link simply opens that page.
document.addEventListener("click", async (event) => {
  const link = event.target.closest("a.older");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  link.classList.add("loading");
  const response = await fetch(link.href, { headers: { Accept: "text/html" } });
  if (!response.ok) { window.location.href = link.href; return; }
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  document.querySelector(".timeline").append(...page.querySelectorAll(".timeline > .post"));
  const next = page.querySelector("a.older");
  if (next) link.replaceWith(next); else link.remove();
});
