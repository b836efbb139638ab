# Writes OUT, a C file defining serve_dashboard_css and serve_dashboard_js
# as NUL-terminated byte arrays of the dashboard's page assets (run at
# build time, so that an edited asset rebuilds the tool).
file(READ ${SRC}/page.css css HEX)
file(READ ${SRC}/page.js js HEX)
string(REGEX REPLACE "(..)" "0x\\1," css "${css}")
string(REGEX REPLACE "(..)" "0x\\1," js "${js}")
file(WRITE ${OUT}.tmp "/* Generated from src/serve/dashboard/ by cmake/embed_assets.cmake. */\n"
     "const char serve_dashboard_css[] = {${css}0};\n"
     "const char serve_dashboard_js[] = {${js}0};\n")
file(RENAME ${OUT}.tmp ${OUT})
