// customcdReport: report the current build to Allstacks Custom CD with customcd.
//
// Drop this file into the vars/ folder of a Jenkins shared library, then in a Jenkinsfile:
//
//   @Library('your-shared-library') _
//   pipeline {
//     agent any
//     stages { stage('Deploy') { steps { sh './deploy.sh' } } }
//     post { always { customcdReport(serviceId: '42', jobType: 'Production Deploy') } }
//   }
//
// Parameters (all optional):
//   credentialsId  Jenkins "Secret text" credential holding the Allstacks token (default 'customcd-token')
//   serviceId      Custom CD service id (or set CUSTOMCD_SERVICE_ID / a [[route]] in customcd.toml)
//   jobType        kind of job, e.g. 'Production Deploy'
//   status         native Jenkins result to report (default: currentBuild.currentResult)
//   commitSha      full commit SHA, when GIT_COMMIT is not set (scripted pipelines)
//   optional       list of 'key=value' / 'key:type=value' strings
//   strict         true: fail the step when the record is not delivered (default false)
//   command        how to run customcd (default 'customcd'; e.g. 'uvx --from customcd[jenkins] customcd')
//
// It never breaks the build unless strict is true: customcd exits 0 when a record is delivered,
// kept for retry or rejected, and prints one line saying which.
def call(Map args = [:]) {
    String credentialsId = args.get('credentialsId', 'customcd-token')
    String command = args.get('command', 'customcd')
    List<String> flags = [
        "--status '${args.get('status', currentBuild.currentResult)}'",
        "--start-time-ms '${currentBuild.startTimeInMillis}'",
    ]
    if (args.serviceId) { flags << "--service-id '${args.serviceId}'" }
    if (args.jobType) { flags << "--job-type '${args.jobType}'" }
    if (args.commitSha) { flags << "--commit-sha '${args.commitSha}'" }
    for (String item : (args.get('optional', []) as List<String>)) {
        flags << "--optional '${item.replace("'", "'\\''")}'"
    }
    if (args.get('strict', false)) { flags << '--strict' }

    withCredentials([string(credentialsId: credentialsId, variable: 'CUSTOMCD_TOKEN')]) {
        // Single quotes: the shell, not Groovy, expands $CUSTOMCD_TOKEN (it never enters the build log).
        String script = "${command} send --adapter jenkins ${flags.join(' ')}"
        if (isUnix()) {
            sh(label: 'customcd send', script: script)
        } else {
            bat(label: 'customcd send', script: script.replace("'", '"'))
        }
    }
}
