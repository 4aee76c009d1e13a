/** The admin page and API: `createAdminHandler(options)` gives `handleAdmin(Request) → Response`. */
export { createAdminHandler, type AdminOptions } from './handler.js';
export { maskPersonal } from './mask.js';
