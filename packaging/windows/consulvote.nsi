; consulvote's Windows installer, built on Linux by `make package-windows`:
;   makensis -DVERSION=0.1.0.1 -DEXE=consulvote.exe -DICON=consulvote.ico \
;            -DOUTFILE=consulvote-setup.exe [-DSIGN=scripts/sign-windows] consulvote.nsi
; Per user: no administrator rights, installed under %LOCALAPPDATA%\Programs,
; a Start-menu shortcut, an uninstaller listed in "Apps", and the
; consulvote:// scheme so that the renewal link opens the app. French and
; English, chosen from the Windows display language.

Unicode true
; The app is 64-bit only; so is its installer (and it runs under wine64).
Target amd64-unicode
SetCompressor /SOLID lzma
RequestExecutionLevel user

!macro require NAME
  !ifndef ${NAME}
    !error "define ${NAME}: see package-windows in the Makefile"
  !endif
!macroend
!insertmacro require VERSION
!insertmacro require EXE
!insertmacro require ICON
!insertmacro require OUTFILE

!define APP "consulvote"
!define PUBLISHER "consulvote"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP}"
!define SCHEMEKEY "Software\Classes\consulvote"

Name "${APP}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP}"
InstallDirRegKey HKCU "${UNINSTKEY}" "InstallLocation"
ShowInstDetails nevershow
ShowUninstDetails nevershow

VIProductVersion "${VERSION}"
VIAddVersionKey /LANG=0 "ProductName" "${APP}"
VIAddVersionKey /LANG=0 "FileDescription" "${APP} installer"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=0 "LegalCopyright" "${PUBLISHER}"

!ifdef SIGN
  ; The uninstaller is written at build time and signed like the rest.
  !uninstfinalize '"${SIGN}" "%1"'
!endif

!include "MUI2.nsh"
!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${APP}.exe"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

; The first language is the default when Windows speaks neither.
!insertmacro MUI_LANGUAGE "French"
!insertmacro MUI_LANGUAGE "English"

LangString ShortcutDesc ${LANG_FRENCH} "Portail de vote par Internet de l'élection des conseillers et délégués consulaires"
LangString ShortcutDesc ${LANG_ENGLISH} "Internet voting portal of the French consular elections"

Section "consulvote"
  SetShellVarContext current
  SetOutPath "$INSTDIR"
  File "/oname=${APP}.exe" "${EXE}"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateShortcut "$SMPROGRAMS\${APP}.lnk" "$INSTDIR\${APP}.exe" "" "$INSTDIR\${APP}.exe" 0 SW_SHOWNORMAL "" "$(ShortcutDesc)"

  ; consulvote://… opens the app with the link as its argument.
  WriteRegStr HKCU "${SCHEMEKEY}" "" "URL:consulvote"
  WriteRegStr HKCU "${SCHEMEKEY}" "URL Protocol" ""
  WriteRegStr HKCU "${SCHEMEKEY}\DefaultIcon" "" '"$INSTDIR\${APP}.exe",0'
  WriteRegStr HKCU "${SCHEMEKEY}\shell\open\command" "" '"$INSTDIR\${APP}.exe" "%1"'

  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" '"$INSTDIR\${APP}.exe",0'
  WriteRegStr HKCU "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
SectionEnd

; The voter's data (%APPDATA%\consulvote) and the keychain entry are theirs:
; the uninstaller leaves them, as Windows apps do.
Section "Uninstall"
  SetShellVarContext current
  Delete "$SMPROGRAMS\${APP}.lnk"
  Delete "$INSTDIR\${APP}.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${SCHEMEKEY}"
  DeleteRegKey HKCU "${UNINSTKEY}"
SectionEnd
