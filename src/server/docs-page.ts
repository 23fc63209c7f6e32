import type { FastifySwaggerUiOptions } from "@fastify/swagger-ui";

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
