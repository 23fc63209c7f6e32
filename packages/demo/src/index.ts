export { photoDemo as default, photoDemo, photoDemoRoutes } from "./app.js";
