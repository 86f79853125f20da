// customcdReport: report the current build to Allstacks Custom CD with the standalone customcd
// build (no Python needed on the agent). See docs/jenkins.md.
//
// Load this shared library (its root is adapters/jenkins/ of the customcd repository: vars/ and
// resources/), then in a Jenkinsfile:
//
//   @Library('customcd') _
//   pipeline {
//     agent any
//     stages { stage('Deploy') { steps { sh './deploy.sh' } } }
//     post { always { customcdReport(serviceId: '42', jobType: 'Production Deploy') } }
//   }
//
// It runs sh (Linux, macOS) or bat + PowerShell (Windows), so it needs an agent: with
// `agent none` at the top, wrap it in `node('linux') { customcdReport(...) }`.
//
// Parameters (all optional):
//   credentialsId  Jenkins "Secret text" credential holding the Allstacks token (default 'customcd-token')
//   serviceId      Custom CD service id (or set CUSTOMCD_SERVICE_ID / a [[route]] in customcd.toml)
//   jobType        kind of job, e.g. 'Production Deploy'
//   status         native Jenkins result to report (default: currentBuild.currentResult)
//   commitSha      full commit SHA, when GIT_COMMIT is not set (scripted pipelines)
//   optional       list of 'key=value' / 'key:type=value' strings
//   strict         true: fail the step when the record is not delivered (default false)
//   version        customcd release to install (default latest); downloadUrl: your mirror folder
//   command        run this customcd instead of installing one (e.g. 'customcd' already on PATH,
//                  or 'uvx --from customcd-jenkins customcd'); split on spaces
//
// Every value reaches customcd as a CUSTOMCD_* environment variable (withEnv): none is ever part
// of the sh/bat text, so quotes, &, %, $(...) or a newline in a value are only data. The script
// run is the library's own resources/customcd/report.sh (report.ps1 on Windows), unchanged.
// It never breaks the build unless strict is true: a problem is one `customcd: WARNING:` line.
def call(Map args = [:]) {
    // The very first thing: the build's end so far. Installing customcd must not count.
    long startMillis = currentBuild.startTimeInMillis as long
    long endSeconds = (long) ((startMillis + (currentBuild.duration as long)) / 1000)
    boolean strict = args.get('strict', false) as boolean
    List<String> environment = [
        "CUSTOMCD_END_TIME=${endSeconds}".toString(),
        "CUSTOMCD_START_TIME_MS=${startMillis}".toString(),
        "CUSTOMCD_STATUS=${args.get('status', currentBuild.currentResult)}".toString(),
        'CUSTOMCD_ADAPTER=jenkins',
    ]
    Map<String, String> names = [
        serviceId: 'CUSTOMCD_SERVICE_ID', jobType: 'CUSTOMCD_JOB_TYPE', commitSha: 'CUSTOMCD_COMMIT_SHA',
        version: 'CUSTOMCD_VERSION', downloadUrl: 'CUSTOMCD_DOWNLOAD_URL', command: 'CUSTOMCD_COMMAND',
    ]
    for (Map.Entry<String, String> item : names.entrySet()) {
        if (args[item.key]) { environment << "${item.value}=${args[item.key]}".toString() }
    }
    List optional = args.get('optional', []) as List
    if (optional) { environment << "CUSTOMCD_OPTIONAL=${optional.join('\n')}".toString() }
    if (strict) { environment << 'CUSTOMCD_STRICT=1' }

    boolean unix = isUnix()
    try {
        withEnv(environment) {
            // The token is bound to CUSTOMCD_TOKEN for the step only; Jenkins masks it in the log.
            withCredentials([string(credentialsId: args.get('credentialsId', 'customcd-token'),
                                    variable: 'CUSTOMCD_TOKEN')]) {
                if (unix) {
                    sh(label: 'customcd report', script: libraryResource('customcd/report.sh'))
                } else {
                    // cmd.exe only starts PowerShell; the script itself travels in a variable.
                    withEnv(["CUSTOMCD_REPORT_PS1=${libraryResource('customcd/report.ps1')}".toString()]) {
                        bat(label: 'customcd report', script: POWERSHELL)
                    }
                }
            }
        }
    } catch (org.jenkinsci.plugins.workflow.steps.FlowInterruptedException interrupted) {
        throw interrupted  // an abort stays an abort
    } catch (Exception problem) {
        if (strict) { throw problem }
        echo("customcd: WARNING: no record sent: ${problem.message}; the build keeps its own result")
    }
}

// The only text cmd.exe sees: fixed, no value in it.
@groovy.transform.Field
static final String POWERSHELL = '@powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass ' +
    '-Command "& ([scriptblock]::Create($env:CUSTOMCD_REPORT_PS1))"'
