# Installing moescope like a desktop application, and packing that install as a .deb:
#   cmake --install build --prefix P      P/bin, P/share/moescope/assets, menu entry and icon
#   cd build && cpack -G DEB              moescope_<version>_<arch>.deb of the same files
# Tests and test programs are not installed.

# The folders are fixed rather than GNUInstallDirs' CMAKE_INSTALL_BINDIR/DATADIR: the programs
# look for their assets at <exe>/../share/moescope/assets (app/common/asset_paths.hpp), so bin/
# and share/ must stay siblings whatever the prefix.
set(MOESCOPE_INSTALL_ASSETS share/moescope/assets)

install(TARGETS moescope moescope-cli RUNTIME DESTINATION bin)

# The bundled model (v2) and the first one (v1/, the Train tab's tokenizer) with their cards and
# the figures the cards show; any other model a developer keeps in assets/models stays out.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/assets/models/ DESTINATION ${MOESCOPE_INSTALL_ASSETS}/models
        FILES_MATCHING PATTERN "moescope-moe-v2.gguf" PATTERN "moescope-moe-tiny.gguf"
                       PATTERN "*.md" PATTERN "*.png")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/assets/prompts DESTINATION ${MOESCOPE_INSTALL_ASSETS}
        FILES_MATCHING PATTERN "*.txt")
# The training sample and configs of the Train tab and `moescope-cli train`.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/assets/train DESTINATION ${MOESCOPE_INSTALL_ASSETS})
# The app uses system fonts today (fonts-dejavu-core, fonts-wqy-microhei); bundled ones would go here.
if(IS_DIRECTORY ${PROJECT_SOURCE_DIR}/assets/fonts)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/assets/fonts DESTINATION ${MOESCOPE_INSTALL_ASSETS})
endif()

# The menu entry. Exec names the installed program by its full path, known only at install time
# (--prefix, or /usr under cpack), so the entry works even when P/bin is not on PATH.
install(CODE "set(MOESCOPE_DESKTOP_TEMPLATE \"${PROJECT_SOURCE_DIR}/app/gui/desktop/moescope.desktop.in\")
set(MOESCOPE_DESKTOP_FILE \"${CMAKE_BINARY_DIR}/desktop/moescope.desktop\")")
install(CODE [[
  set(MOESCOPE_EXEC "${CMAKE_INSTALL_PREFIX}/bin/moescope")
  if(MOESCOPE_EXEC MATCHES "[ \t\"'\\\\]")
    message(FATAL_ERROR "moescope: the install prefix '${CMAKE_INSTALL_PREFIX}' has a space, "
                        "quote or backslash, which the menu entry's Exec line cannot hold as is")
  endif()
  configure_file("${MOESCOPE_DESKTOP_TEMPLATE}" "${MOESCOPE_DESKTOP_FILE}" @ONLY)
  file(INSTALL "${MOESCOPE_DESKTOP_FILE}" DESTINATION "${CMAKE_INSTALL_PREFIX}/share/applications")
]])
install(FILES ${PROJECT_SOURCE_DIR}/app/gui/desktop/moescope.svg
        DESTINATION share/icons/hicolor/scalable/apps)

# The Debian package.
set(MOESCOPE_PACKAGE_MAINTAINER "moescope maintainers <maintainers@users.noreply.b-seed-a55dec47.example>"
    CACHE STRING "Maintainer field of the .deb")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME moescope)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${MOESCOPE_PACKAGE_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${MOESCOPE_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "visualizer and playground for Mixture-of-Experts language models")
# Lines as they appear in the package (CPack wraps nothing): Debian wants them under 80 columns.
set(CPACK_PACKAGE_DESCRIPTION "moescope runs a Mixture-of-Experts transformer from a GGUF file and
shows every routing decision: which experts each token chose at every layer,
with their gate weights, and the load, balance and co-activation of the
experts. The desktop app (moescope) follows as you type and lets you change
the router; moescope-cli prints routing traces, exports plots (PNG, SVG, PDF)
and data (CSV, JSON), and trains small MoE models. A small trained model is
included.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # moescope_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_STRIP_FILES ON)
# dpkg-shlibdeps (package dpkg-dev) works out the packages of the shared libraries (GLFW, EGL,
# cairo, Pango, PCRE2, libpng ...). Named by hand, what no library names: DejaVu, the font the app
# opens by path (app/gui/fonts.cpp), and Mesa's drivers, the OpenGL of a machine without a GPU
# driver (llvmpipe) and of the GL backend's surfaceless EGL (libglfw3 pulls them in today through
# libgl1 -> libglx-mesa0, but nothing promises it). The CJK font only serves CJK text: Recommends.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fonts-dejavu-core, libgl1-mesa-dri")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "fonts-wqy-microhei")

# The build is for the x86-64 baseline (the CPU kernels choose their level at run time), so the
# package runs on any x86-64 machine.

include(CPack)
