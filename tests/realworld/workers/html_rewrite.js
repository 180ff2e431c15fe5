// HTML rewriting without streams: string replacements on the upstream page.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const upstream = await fetch(`${env.UPSTREAM}/html`);
    let html = await upstream.text();
    const lang = url.searchParams.get('lang') || 'en';
    html = html
      .replace('<html>', `<html lang="${lang}">`)
      .replace('<body>', '<body>\n<div class="banner">Free shipping this week</div>')
      .replace(/src="\/img\//g, 'src="https://cdn.example.com/img/')
      .replace(/Price: (\d+) USD/, (_, n) => `Price: ${(Number(n) * 0.9).toFixed(2)} EUR`)
      .replace('</head>', '<meta name="robots" content="noindex"></head>');
    if (url.searchParams.has('strip-links')) html = html.replace(/<a [^>]*>(.*?)<\/a>/g, '$1');
    return new Response(html, {
      headers: { 'content-type': 'text/html; charset=utf-8', 'content-language': lang },
    });
  },
};
