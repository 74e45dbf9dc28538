// Swagger UI over the API's description (../openapi.json), configured in
// this file: the site's Content-Security-Policy allows no inline script.
// Requests of "Try it out" go to this same site, with its cookies.
'use strict';

window.addEventListener('load', () => {
  window.ui = window.SwaggerUIBundle({
    url: new URL('../openapi.json', window.location.href).href,
    dom_id: '#swagger-ui',
    deepLinking: true,
    withCredentials: true,
    validatorUrl: null,
  });
});
