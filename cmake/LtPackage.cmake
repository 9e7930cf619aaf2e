# LtPackage.cmake — what an installation holds besides the programs and the
# unit list (installed by their own folders), and the Debian package:
#
#   cmake --build build && (cd build && cpack -G DEB)   # lienthong_<v>-1_<arch>.deb
#
# The package installs under /usr: /usr/bin/lienthong-{agent,sink,reconcile},
# /usr/share/lienthong (unit list, found by the programs relative to their own
# directory), man pages made at build time by the programs from the tables
# behind --help, the systemd units, the sysusers.d file of the lienthong
# user, and the example configuration in /etc/lienthong (conffiles). See
# docs/PACKAGING.md.
include(GNUInstallDirs)

# ------------------------------------------------------------ man pages
set(LT_MAN_OUTPUTS)
foreach(entry lienthong-agent:8 lienthong-sink:8 lienthong-reconcile:1)
  string(REPLACE ":" ";" parts ${entry})
  list(GET parts 0 prog)
  list(GET parts 1 section)
  set(page ${PROJECT_BINARY_DIR}/man/${prog}.${section})
  add_custom_command(OUTPUT ${page} ${page}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${prog}> -DSECTION=${section}
            -DOUTPUT=${page} -P ${PROJECT_SOURCE_DIR}/cmake/LtManPage.cmake
    DEPENDS ${prog} ${PROJECT_SOURCE_DIR}/cmake/LtManPage.cmake
    COMMENT "man page ${prog}(${section}) from ${prog} --help-man"
    VERBATIM)
  list(APPEND LT_MAN_OUTPUTS ${page} ${page}.gz)
  install(FILES ${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(lt_man_pages ALL DEPENDS ${LT_MAN_OUTPUTS})

# ------------------------------------------------------------ systemd
# Where this Debian's systemd looks (systemd.pc), else its usual places.
pkg_get_variable(LT_SYSTEMD_UNIT_DIR systemd systemdsystemunitdir)
pkg_get_variable(LT_SYSUSERS_DIR systemd sysusersdir)
if(NOT LT_SYSTEMD_UNIT_DIR)
  set(LT_SYSTEMD_UNIT_DIR /lib/systemd/system)
endif()
if(NOT LT_SYSUSERS_DIR)
  set(LT_SYSUSERS_DIR /usr/lib/sysusers.d)
endif()
# The units name /usr/bin/lienthong-*: the package's prefix.
install(FILES
  ${PROJECT_SOURCE_DIR}/deploy/systemd/lienthong-agent.service
  ${PROJECT_SOURCE_DIR}/deploy/systemd/lienthong-sink.service
  DESTINATION ${LT_SYSTEMD_UNIT_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/lienthong.sysusers
  DESTINATION ${LT_SYSUSERS_DIR} RENAME lienthong.conf)

# ------------------------------------------------------------ configuration
# Always /etc/lienthong: the programs' default -c. Mode 0640; the postinst
# gives them to group lienthong (they may hold database passwords).
set(LT_CONFFILES)
foreach(name agent.ini sink.ini reconcile.ini)
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/config/${name} DESTINATION /etc/lienthong
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
  string(APPEND LT_CONFFILES "/etc/lienthong/${name}\n")
endforeach()
file(WRITE ${PROJECT_BINARY_DIR}/debian/conffiles "${LT_CONFFILES}")

install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/CONFIGURATION.md
  ${PROJECT_SOURCE_DIR}/docs/DATA.md ${PROJECT_SOURCE_DIR}/docs/DESIGN.md
  ${PROJECT_SOURCE_DIR}/docs/OUTBOX.md ${PROJECT_SOURCE_DIR}/docs/SYSTEMD.md
  ${PROJECT_SOURCE_DIR}/docs/PACKAGING.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ------------------------------------------------------------ the .deb
set(LT_PACKAGE_CONTACT "lienthong maintainers <lienthong@invalid>" CACHE STRING
  "Maintainer field of the Debian package")
foreach(script postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/${script}
    ${PROJECT_BINARY_DIR}/debian/${script} COPYONLY)
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lienthong)
set(CPACK_PACKAGE_VENDOR lienthong)
set(CPACK_PACKAGE_CONTACT ${LT_PACKAGE_CONTACT})
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "commune-to-province data sync over Kafka: agent, sink, reconcile")
set(CPACK_PACKAGE_DESCRIPTION
  "lienthong moves every civil-status event and administrative dossier from a
commune's PostgreSQL outbox through Kafka to its province's PostgreSQL,
exactly once and in order, signed by the commune, and proves afterwards that
both levels hold the same data. lienthong-agent runs at each commune,
lienthong-sink and lienthong-reconcile at the province; systemd units for
both daemons are included (not enabled).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The postinst makes the lienthong user with one or the other.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | adduser")
# The shared libraries' packages (librdkafka1, libprotobuf-c1, libpq5,
# libssl3, libjansson4, libutf8proc2, libsystemd0, libc6) as dpkg-shlibdeps
# finds them in the binaries; without it, named here.
find_program(LT_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(LT_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", librdkafka1, libprotobuf-c1, libpq5, libssl3, "
    "libjansson4, libutf8proc2, libsystemd0, libc6")
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_BINARY_DIR}/debian/conffiles
  ${PROJECT_BINARY_DIR}/debian/postinst
  ${PROJECT_BINARY_DIR}/debian/prerm
  ${PROJECT_BINARY_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
