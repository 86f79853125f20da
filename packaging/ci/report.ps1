# customcd report step (Windows PowerShell 5.1 and PowerShell 7): install the standalone build,
# send this job's record, say what happened in one line. The twin of packaging/ci/report.sh for
# Windows agents (Azure DevOps template, Jenkins step), with the same environment interface; it
# downloads customcd-windows-<arch>.tar.gz from CUSTOMCD_DOWNLOAD_URL and checks it against its
# .sha256 itself (packaging/install.sh is POSIX sh). The caller captures CUSTOMCD_END_TIME first.
# It never changes the job's result unless CUSTOMCD_STRICT is set.

$ErrorActionPreference = 'Continue'
$ProgressPreference = 'SilentlyContinue'  # the progress bar slows Invoke-WebRequest tenfold

function Test-CustomcdTrue([string] $Value) { return $Value -match '^(1|true|yes|on)$' }

# One clear line: the CI's annotation where it has one, else a plain line.
function Write-CustomcdWarning([string] $Message) {
    if ($env:GITHUB_ACTIONS -eq 'true') { Write-Output "::warning title=customcd::$Message" }
    elseif ($env:TF_BUILD) { Write-Output "##vso[task.logissue type=warning]customcd: $Message" }
    else { Write-Output "customcd: WARNING: $Message" }
}

function Set-CustomcdResult([string] $Outcome, [int] $Code) {
    if ($env:GITHUB_OUTPUT) {
        Add-Content -Path $env:GITHUB_OUTPUT -Value "outcome=$Outcome`nexit-code=$Code"
    }
    if ($env:TF_BUILD) { Write-Output "##vso[task.setvariable variable=CUSTOMCD_OUTCOME]$Outcome" }
}

function Get-CustomcdEnv([string] $Name) { return [Environment]::GetEnvironmentVariable($Name) }
function Set-CustomcdEnv([string] $Name, [string] $Value) {
    [Environment]::SetEnvironmentVariable($Name, $Value)
}

# Prints the path of customcd.exe, or $null after one `customcd: ...` line on stderr.
function Install-Customcd([string] $Base) {
    $arch = if ($env:PROCESSOR_ARCHITECTURE -eq 'ARM64') { 'aarch64' } else { 'x86_64' }
    $name = "customcd-windows-$arch.tar.gz"
    $cache = Get-CustomcdEnv 'CUSTOMCD_CACHE_DIR'
    if (-not $cache) { $cache = Join-Path $env:LOCALAPPDATA 'customcd' }
    $tmp = Join-Path ([IO.Path]::GetTempPath()) ('customcd-' + [guid]::NewGuid())
    try {
        [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor
            [Net.SecurityProtocolType]::Tls12
        New-Item -ItemType Directory -Path $tmp | Out-Null
        Invoke-WebRequest -UseBasicParsing -TimeoutSec 60 -Uri "$Base/$name.sha256" -OutFile "$tmp\sum"
        $want = ((Get-Content "$tmp\sum" -Raw).Trim() -split '\s+')[0].ToLowerInvariant()
        $dir = Join-Path $cache $want
        $exe = Join-Path $dir 'customcd\customcd.exe'
        if (-not (Test-Path $exe)) {
            Invoke-WebRequest -UseBasicParsing -TimeoutSec 300 -Uri "$Base/$name" -OutFile "$tmp\$name"
            $got = (Get-FileHash -Algorithm SHA256 -Path "$tmp\$name").Hash.ToLowerInvariant()
            if ($got -ne $want) { throw "$name does not match its .sha256; refusing it" }
            New-Item -ItemType Directory -Force -Path "$dir.tmp" | Out-Null
            & tar.exe -xzf "$tmp\$name" -C "$dir.tmp" | Out-Null
            if ($LASTEXITCODE -ne 0) { throw "could not unpack $name into $cache" }
            Remove-Item -Recurse -Force -Path $dir -ErrorAction SilentlyContinue
            Move-Item -Path "$dir.tmp" -Destination $dir
        }
        return $exe
    } catch {
        [Console]::Error.WriteLine("customcd: cannot install customcd: $($_.Exception.Message)")
        return $null
    } finally {
        Remove-Item -Recurse -Force -Path $tmp -ErrorAction SilentlyContinue
    }
}

# CUSTOMCD_<NAME> from CUSTOMCD_DEFAULT_<NAME> when empty.
foreach ($name in 'SERVICE_ID', 'JOB_TYPE', 'OPTIONAL', 'STRICT', 'VERSION', 'DOWNLOAD_URL') {
    $default = Get-CustomcdEnv "CUSTOMCD_DEFAULT_$name"
    if (-not (Get-CustomcdEnv "CUSTOMCD_$name") -and $default) { Set-CustomcdEnv "CUSTOMCD_$name" $default }
}
# The URL, company id and token may live in variables of other names.
$broken = @()
foreach ($name in 'URL', 'COMPANY_ID', 'TOKEN') {
    $from = Get-CustomcdEnv "CUSTOMCD_${name}_VARIABLE"
    if (-not $from -or $from -eq "CUSTOMCD_$name") { continue }
    if ($from -notmatch '^[A-Za-z_][A-Za-z0-9_]*$') { $broken += $from; continue }
    Set-CustomcdEnv "CUSTOMCD_$name" (Get-CustomcdEnv $from)
}
$strict = Test-CustomcdTrue (Get-CustomcdEnv 'CUSTOMCD_STRICT')

if ($broken.Count -gt 0) {
    Write-CustomcdWarning "no record sent: not a variable name: $($broken -join ' ') (give the NAME of the variable holding the value)"
    Set-CustomcdResult 'invalid' 64
    if ($strict) { exit 64 } else { exit 0 }
}

$command = @()
if ($env:CUSTOMCD_COMMAND) {
    $command = @($env:CUSTOMCD_COMMAND -split '\s+' | Where-Object { $_ })
} else {
    $base = Get-CustomcdEnv 'CUSTOMCD_DOWNLOAD_URL'
    if (-not $base) {
        $version = Get-CustomcdEnv 'CUSTOMCD_VERSION'
        if (-not $version -or $version -eq 'latest') {
            $base = 'https://github.com/customcd/customcd/releases/latest/download'
        } else {
            $base = 'https://github.com/customcd/customcd/releases/download/v' + $version.TrimStart('v')
        }
    }
    $base = $base.TrimEnd('/')
    # credentials and query strings in the URL never reach the job log
    $shown = ($base -replace '://[^/@?\s]*@', '://***@') -replace '\?.*$', '?***'
    Write-Output "customcd: installing from $shown"
    $exe = Install-Customcd $base
    if (-not $exe) {
        Write-CustomcdWarning "no record sent: customcd could not be installed from $shown (see the line above); this job keeps its own result"
        Set-CustomcdResult 'not-installed' 1
        if ($strict) { exit 1 } else { exit 0 }
    }
    $command = @($exe)
}

# Strict exit codes tell the outcome; the job's own result is decided below.
$log = Join-Path ([IO.Path]::GetTempPath()) "customcd-report-$PID.log"
$env:CUSTOMCD_STRICT = '1'
$arguments = @($command | Select-Object -Skip 1) + @('send')
$process = Start-Process -FilePath $command[0] -ArgumentList $arguments -NoNewWindow -Wait -PassThru `
    -RedirectStandardError $log
$code = $process.ExitCode
$lines = @(Get-Content -Path $log -ErrorAction SilentlyContinue)
Remove-Item -Path $log -ErrorAction SilentlyContinue
foreach ($line in $lines) { [Console]::Error.WriteLine($line) }
$text = $lines -join "`n"
switch ($code) {
    0 { $outcome = if ($text -match '(?m)^customcd: no record sent') { 'skipped' } else { 'delivered' } }
    75 { $outcome = 'kept' }
    77 { $outcome = 'rejected' }
    65 { $outcome = if ($text -match 'REJECTED by the server') { 'rejected' } else { 'invalid' } }
    78 { $outcome = if ($text -match 'kept in the outbox') { 'kept' } else { 'invalid' } }
    default { $outcome = 'invalid' }
}
Set-CustomcdResult $outcome $code
if ($outcome -eq 'invalid') {
    Write-CustomcdWarning "no record sent: the record could not be built (exit $code; see the lines above); this job keeps its own result"
}
if ($strict) { exit $code }
exit 0
