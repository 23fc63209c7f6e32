import type { FastifyDynamicSwaggerOptions } from "@fastify/swagger";
import type { FastifySwaggerUiOptions } from "@fastify/swagger-ui";

/** The OpenAPI document's head; its paths come from the routes' schemas. */
export const OPENAPI_OPTIONS: FastifyDynamicSwaggerOptions = {
  openapi: {
    info: {
      title: "Steward",
      version: "0.1.0",
      description: "Offline access to Google APIs for your app's backend.",
    },
    components: {
      securitySchemes: {
        googleIdToken: {
          type: "http",
          scheme: "bearer",
          description: "The user's Google ID token.",
        },
        apiKey: {
          type: "http",
          scheme: "bearer",
          description: "An API key or STEWARD_ADMIN_TOKEN.",
        },
      },
    },
  },
};

/** Steward's name as the top bar's logo, drawn as text: no image file, no external font. */
const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40" viewBox="0 0 160 40">
<rect width="160" height="40" rx="6" fill="#1f6f5c"/>
<text x="80" y="27" text-anchor="middle" font-family="system-ui, sans-serif" font-size="20" font-weight="600" fill="#fff">Steward</text>
</svg>`;

/** `/docs`: Swagger UI over the OpenAPI document, under Steward's name rather than Fastify's. */
export const DOCS_PAGE_OPTIONS: FastifySwaggerUiOptions = {
  routePrefix: "/docs",
  logo: { type: "image/svg+xml", content: Buffer.from(LOGO_SVG), href: "/docs" },
  theme: { title: "Steward API" },
};
